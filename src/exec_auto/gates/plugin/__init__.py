"""The directory put on PYTHONPATH of gate test runs: exec-auto's pytest plugins and unittest runner.

Test runs happen in the project's own environment, where exec-auto is usually not installed. Only
this directory goes on that environment's path, so no exec-auto module (nor any of exec-auto's
dependencies) can shadow or satisfy the project's imports. The one exception: when the project's
environment has no `coverage`, a directory holding only exec-auto's `coverage` package is added for
recording the test map (testing.py), since the project cannot have imported a coverage of its own.
"""

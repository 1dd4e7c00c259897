"""The directory put on PYTHONPATH of gate test runs: it holds only `exec_auto_pytest_plugin`.

Test runs happen in the project's own environment, where exec-auto is usually not installed. Only
this directory goes on that environment's path, so no exec-auto module (nor any of exec-auto's
dependencies) can shadow or satisfy the project's imports.
"""

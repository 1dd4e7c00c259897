"""Diff parsing for the review: stats, test functions added/changed/removed, safe HTML."""

from __future__ import annotations

from exec_auto.review import diffs

PATCH = """\
diff --git a/app/mod.py b/app/mod.py
index 1111111..2222222 100644
--- a/app/mod.py
+++ b/app/mod.py
@@ -1,2 +1,3 @@
 def f():
-    return 1
+    return 2
+# <script>alert(1)</script>
diff --git a/tests/test_mod.py b/tests/test_mod.py
index 3333333..4444444 100644
--- a/tests/test_mod.py
+++ b/tests/test_mod.py
@@ -1,6 +1,6 @@ import app
-def test_old():
-    assert True
+def test_new():
+    assert app.f() == 2
@@ -10,3 +10,3 @@ def test_kept():
-    assert app.f() == 1
+    assert app.f() == 2
diff --git a/tests/test_gone.py b/tests/test_gone.py
deleted file mode 100644
index 5555555..0000000
--- a/tests/test_gone.py
+++ /dev/null
@@ -1,2 +0,0 @@
-def test_gone():
-    pass
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..6666666
Binary files /dev/null and b/logo.png differ
"""


def test_parse_counts_lines_per_file_and_marks_binary():
    files = diffs.parse(PATCH)
    assert [(f.path, f.status, f.added, f.deleted) for f in files] == [
        ("app/mod.py", "modified", 2, 1),
        ("tests/test_mod.py", "modified", 3, 3),
        ("tests/test_gone.py", "deleted", 0, 2),
        ("logo.png", "binary", 0, 0),
    ]
    assert diffs.stat(files).text() == "4 files, +5 -6"


def test_test_functions_added_changed_and_removed():
    changes = diffs.test_changes(diffs.parse(PATCH))
    assert changes.added == ("tests/test_mod.py::test_new",)
    assert changes.changed == ("tests/test_mod.py::test_kept",)
    assert changes.removed == ("tests/test_gone.py::test_gone", "tests/test_mod.py::test_old")
    assert changes.text() == "+1 ~1 -2"


def test_rendered_diff_escapes_content_and_cuts_long_diffs():
    files = diffs.parse(PATCH)
    page = diffs.render(files)
    assert "<script>" not in page and "&lt;" in page
    assert 'class="add"' in page and 'class="del"' in page and "binary file" in page
    cut = diffs.render(files, max_lines=3)
    assert "cut here" in cut or "more files cut" in cut

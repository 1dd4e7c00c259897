"""`exec-auto batch-report --from DIR`: the batch report from result files (a CI fan-in, a rerun).

DIR holds the job units' result files in any layout (CI artefacts unpack one folder per job) and,
when a local batch wrote it, `batch.json`. The report is the same one a local batch writes: both
are built by `batch.report.assemble` from the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from exec_auto.errors import ExecAutoError

FORMATS = ("md", "json", "html")


def _formats(text: str) -> tuple[str, ...]:
    wanted = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise ExecAutoError(
            f"--format {text!r}: unknown format {', '.join(unknown) or '(none)'}",
            hint=f"choose from {', '.join(FORMATS)} (comma-separated)",
        )
    return wanted


def main(args: argparse.Namespace) -> int:
    """Assemble and write the report; 0 once written (--strict: the batch's exit code)."""
    from exec_auto.batch.report import (
        META_FILE,
        BatchMeta,
        assemble,
        render_summary,
        write_batch_report,
    )
    from exec_auto.batch.result import ResultFileError, load_results

    source = Path(args.source).resolve()
    formats = _formats(args.format)
    results = load_results(source)
    if not results:
        raise ExecAutoError(
            "no result files found",
            path=source,
            hint="result files are *.json written by --result-file",
        )
    meta_path = source / META_FILE
    meta = BatchMeta()
    if meta_path.is_file():
        try:
            meta = BatchMeta.model_validate_json(meta_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ResultFileError(
                f"not a batch.json: {str(exc).splitlines()[0]}", path=meta_path
            ) from exc
    report = assemble(results, meta)
    out = Path(args.out).resolve() if args.out else source
    md, js = write_batch_report(report, out)
    if "md" not in formats:
        md.unlink()
    if "json" not in formats:
        js.unlink()
    if "html" in formats:
        from exec_auto.repo import find_root
        from exec_auto.review.pages import write_batch_html

        # Diffs come from the step history when this repository holds it (else the page says so).
        print(f"Review page: {write_batch_html(report, out, find_root(Path.cwd()))}")
    print(render_summary(report))
    print(f"Batch report: {md if 'md' in formats else js} ({len(results)} result files)")
    return report.exit_code if args.strict else 0

"""``write_back_10k_vs_openpyxl``: writing a status and a job id into every row of a 10,000-row
workbook with ``write_back`` (the worksheet patched inside the zip) ÷ what writing cost before:
``openpyxl.load_workbook`` + ``save`` of the same file, with no cell even changed."""

from __future__ import annotations

import shutil

from bench.common import WORK, Result, interleaved, log, ratios, stats
from bench.plan_bench import ROWS, big_rows, write_xlsx


def write_benchmarks(reps: int = 3) -> list[Result]:
    import openpyxl

    from sheet2video.sheets.write import RowUpdate, write_back

    work = WORK / "write"
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"campaign_{ROWS}.xlsx"
    if not source.exists():
        write_xlsx(source, big_rows())
    updates = [RowUpdate(r, f"store-{r - 2:05d}", {"job_id": f"job-{r}", "status": "Finished" if r % 7 else "Failed"})
               for r in range(2, ROWS + 2)]

    def ours() -> None:
        target = work / "ours.xlsx"
        shutil.copyfile(source, target)
        outcome = write_back(target, updates, key_column="id")
        assert outcome.written == ROWS and not outcome.results_copy, outcome
        for leftover in work.glob("ours.bak*"):
            leftover.unlink()

    def openpyxl_round_trip() -> None:
        openpyxl.load_workbook(source).save(work / "openpyxl.xlsx")

    def show(rep, s):
        log(f"  write_back {s['ours'].wall:.2f} s (cpu {s['ours'].cpu:.2f}) vs openpyxl load+save "
            f"{s['openpyxl'].wall:.2f} s (cpu {s['openpyxl'].cpu:.2f})")

    rounds = interleaved({"ours": ours, "openpyxl": openpyxl_round_trip}, reps, on_rep=show)
    pairs = [{"write_back_s": round(r["ours"].wall, 3), "openpyxl_s": round(r["openpyxl"].wall, 3)} for r in rounds]
    mib = source.stat().st_size / 2**20
    return [Result("write_back_10k_vs_openpyxl", "<= 1.0", ratios(rounds, "ours", "openpyxl"),
                   cpu_ratios=ratios(rounds, "ours", "openpyxl", cpu=True), basis="cpu", detail={
        "seconds": pairs, "write_back_s": stats([p["write_back_s"] for p in pairs]),
        "openpyxl_s": stats([p["openpyxl_s"] for p in pairs]), "rows": ROWS, "mebibytes": round(mib, 2)},
        note=f"{ROWS:,} rows × 16 columns ({mib:.1f} MiB); job_id and status written into every row (status "
             "coloured), backup and atomic replace included, against openpyxl's load_workbook + save of the same "
             "file with nothing changed (how write-back worked before; it also rewrote every part).")]

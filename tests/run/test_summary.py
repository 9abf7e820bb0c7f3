"""The end-of-run table (short runs in sheet order; long ones with what needs attention first) and
how often statuses are saved between chunks."""

from pathlib import Path

from sheet2video.progress import SUMMARY_JOBS, print_summary
from sheet2video.runner import RowResult, RunSummary


def summary_of(statuses: list[str]) -> RunSummary:
    results = [RowResult(f"job{i:03d}", [i + 2], status, [f"videos/job{i:03d}_0.mp4"] if status == "Finished" else [],
                         "InvalidMaterial.NotFound: gone.mp4" if status == "Failed" else "")
               for i, status in enumerate(statuses)]
    return RunSummary(sheet=Path("big.csv"), ledger=Path(".sheet2video/big.csv.ledger.sqlite3"), results=results,
                      finished=statuses.count("Finished"), failed=statuses.count("Failed"))


def shown_jobs(text: str) -> list[str]:
    return [word.strip("│ ") for line in text.splitlines() for word in line.split("│")[1:2] if word.strip().startswith("job")]


def test_a_short_run_is_listed_in_sheet_order(capsys):
    print_summary(summary_of(["Finished", "Failed", "Finished"]))
    err = capsys.readouterr().err
    assert shown_jobs(err) == ["job000", "job001", "job002"]
    assert "not shown" not in err


def test_a_long_run_shows_failures_first_and_says_what_it_left_out(capsys):
    statuses = ["Finished"] * 40 + ["Processing"] * 3 + ["Failed"] * 2
    print_summary(summary_of(statuses))
    err = capsys.readouterr().err
    shown = shown_jobs(err)
    assert len(shown) == SUMMARY_JOBS
    assert shown[:5] == ["job043", "job044", "job040", "job041", "job042"]  # failed, then still rendering
    assert "15 more job(s) not shown (15 finished); every row's result is in the sheet" in " ".join(err.split())


def test_saves_between_chunks_take_at_most_a_tenth_of_the_time():
    from sheet2video.runner import SavePacer

    pacer = SavePacer(share=0.1)
    assert pacer.due(0.0)                      # nothing saved yet
    pacer.saved(0.0, 0.01)                     # a small sheet: 10 ms
    assert not pacer.due(0.05) and pacer.due(0.1)
    pacer.saved(10.0, 16.0)                    # a 10,000-row workbook: 6 s
    assert not pacer.due(16.0 + 53.9)
    assert pacer.due(16.0 + 54.0)              # 54 s of work per 6 s of saving

"""The end-of-run table (short runs in sheet order; long ones with what needs attention first) and
how often statuses are saved between chunks."""

from pathlib import Path

from sheet2video.console.progress import SUMMARY_JOBS, print_summary
from sheet2video.run.summary import RowResult, RunSummary


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
    from sheet2video.run.results import SavePacer

    pacer = SavePacer(share=0.1)
    assert pacer.due(0.0)                      # nothing saved yet
    pacer.saved(0.0, 0.01)                     # a small sheet: 10 ms
    assert not pacer.due(0.05) and pacer.due(0.1)
    pacer.saved(10.0, 16.0)                    # a 10,000-row workbook: 6 s
    assert not pacer.due(16.0 + 53.9)
    assert pacer.due(16.0 + 54.0)              # 54 s of work per 6 s of saving


# ---------------------------------------------------------------- never a word broken, counts, next steps

LONG_PATHS = [f"videos/spring-campaign-2026/hero-{n}_with_a_rather_long_name_{n}.mp4" for n in range(3)]
LONG_ERROR = ("InvalidMaterial.NotFound: The specified media not found: "
              "media/product-shots/final/missing_product_shot_final_v2.mp4 (row 3, media:Product)")


def mixed_summary() -> RunSummary:
    results = [RowResult("spring-sale-hero", [2], "Finished", LONG_PATHS, ""),
               RowResult("gone", [3], "Failed", [], LONG_ERROR),
               RowResult("still", [5], "Processing", [], "")]
    summary = RunSummary(sheet=Path("campaign.xlsx"), ledger=Path("/data/.sheet2video/campaign.xlsx.ledger.sqlite3"),
                         rows=4, rows_in_jobs=3, disabled=1, disabled_rows=[4], jobs=3, submitted=1, refused=0,
                         resumed=1, skipped=1, skipped_reasons={"failed before, not retried": 1},
                         finished=1, failed=1, pending=1, rendering=1, videos=3, results=results,
                         repeat="campaign.xlsx --endpoint http://render-box:8090")
    return summary


def rendered(summary: RunSummary, width: int) -> str:
    import io

    from rich.console import Console

    out = io.StringIO()
    print_summary(summary, Console(file=out, width=width, color_system=None, force_terminal=False))
    return out.getvalue()


def test_paths_and_errors_are_never_broken_mid_word(capsys):
    for width in (40, 80, 200):
        text = rendered(mixed_summary(), width)
        lines = text.splitlines()
        for token in [*LONG_PATHS, *LONG_ERROR.split(), "campaign.xlsx", "--retry-failed", "http://render-box:8090"]:
            assert any(token in line for line in lines), (width, token, text)
        for line in lines:  # a line is longer than the console only when one word alone is
            assert len(line) <= width or len(line.strip(" │•").split()) == 1, (width, line)
        assert ("│" in text) == (width == 200), width  # a table when everything fits whole, else a list


def test_the_counts_add_up_and_the_summary_ends_with_what_to_do():
    text = " ".join(rendered(mixed_summary(), 80).split())
    assert "campaign.xlsx: 4 rows — 3 in 3 jobs, 1 skipped (enabled = no: row 4)" in text
    assert "this run: 1 submitted, 1 followed from an earlier run, 1 skipped (1 failed before, not retried)" in text
    assert "now: 1 finished, 1 failed, 1 pending (1 rendering) · 3 videos" in text
    steps = mixed_summary().next_steps
    assert steps[0].startswith("fix row 3 (InvalidMaterial.NotFound: The specified media not found:")
    assert steps[0].endswith(" …), then rerun: sheet2video run campaign.xlsx --endpoint http://render-box:8090 --retry-failed")
    assert steps[1] == "1 job still rendering: run 'sheet2video sync campaign.xlsx --endpoint http://render-box:8090' later"
    assert text.endswith(steps[1])


def test_next_steps_for_many_failures_a_results_copy_and_a_clean_run():
    from sheet2video.sheets.write import WriteOutcome

    summary = summary_of(["Failed"] * 7 + ["Finished"])
    summary.jobs = 8
    assert summary.next_steps == ["fix rows 2, 3, 4, 5, 6 and 2 more (their error column says why), then rerun: "
                                  "sheet2video run big.csv --retry-failed"]
    done = summary_of(["Finished"] * 2)
    done.jobs = 2
    done.written = WriteOutcome(Path("big.results.csv"), True, "big.csv is read-only", None)
    assert done.next_steps == ["results are in big.results.csv: close big.csv (or make it writable), "
                               "then run 'sheet2video sync big.csv' to write them into it"]
    done.written = None
    assert done.next_steps == ["nothing to do: every job finished"]

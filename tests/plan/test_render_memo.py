"""Rendering a template once per distinct set of cells (render_memo) changes no job, reports every
bad cell of every row, and is used only for templates that read nothing but their row; the
sandbox's fast paths allow no more than the sandbox does."""

import pytest
from jinja2.exceptions import SecurityError

from sheet2video.plan.campaign import plan_campaign
from sheet2video.errors import PreflightError
from sheet2video.sheets.read import read_sheet
from sheet2video.plan.template_scan import scan
from sheet2video.plan.templating import load_template_set, make_environment

HEADER = "id,media:A,titles,voice,bgm_volume,transition,count"


def sheet(write_csv, rows):
    return read_sheet(write_csv(HEADER + "\n" + "".join(rows)))


def test_memoised_plan_equals_the_plan_rendered_row_by_row(write_csv):
    rows = [f"r{i},a.mp4,Title {i},{'andy' if i % 3 else 'zhitian_emo'},{0.2 if i % 2 else 0.3},fade,{1 + i % 3}\n"
            for i in range(200)]
    data = sheet(write_csv, rows)
    memoised = load_template_set("script")
    plain = load_template_set("script")
    plain.memos = {}
    assert [j.params for j in plan_campaign(data, memoised)] == [j.params for j in plan_campaign(data, plain)]
    used = {name for name, memo in memoised.memos.items() if memo.usable}
    assert used == {"InputConfig", "EditingConfig", "UserData", "TemplateConfig"}  # not OutputConfig: it reads default_output
    editing = memoised.memos["EditingConfig"]
    assert (len(editing.texts), editing.hits) == (4, 196)  # 2 voices × 2 volumes, each rendered once


def test_every_row_with_a_bad_cell_is_still_reported(write_csv):
    rows = ["a,a.mp4,T,andy,0.3,fade,1\n", "b,a.mp4,T,andy,loud,fade,1\n", "c,a.mp4,T,andy,loud,fade,1\n",
            "d,a.mp4,T,andy,0.3,fade,1\n"]
    with pytest.raises(PreflightError) as error:
        plan_campaign(sheet(write_csv, rows), load_template_set("script"))
    assert [str(p) for p in error.value.problems] == ["row 3, bgm_volume: expected a number, got 'loud'",
                                                      "row 4, bgm_volume: expected a number, got 'loud'"]


@pytest.mark.parametrize("source, pure", [
    ('{{ {"V": row.number("v")} | tojson }}', True),
    ('{% if row.flag("x") %}{% set a = 1 %}{% else %}{% set a = 2 %}{% endif %}{{ a }}', True),  # set on every path
    ('{{ {"K": job.key} | tojson }}', False),          # another context variable
    ('{{ [1, 2] | random }}', False),                  # not the same text twice
    ('{% include "x.j2" %}', False),                    # reads another file
    ('{% set c = "v" %}{{ row.text(c) }}', False),      # a computed column name
    ('{{ lipsum(1) }}', False),                         # a random global
    ('{{ row.sheet_row }}', False),                     # the row's number, not a cell
    ('{% set f = row.text %}{{ f("v") }}', False),      # an accessor kept for later
    ('{{ row | string }}', False),                      # the row passed on
])
def test_which_templates_may_be_memoised(tmp_path, source, pure):
    env = make_environment(tmp_path)
    reads = scan(env, source, frozenset({"text", "number", "flag"}))
    assert reads.pure({"row", "job", "rows", "sheet", "default_output", *env.globals}) is pure


@pytest.mark.parametrize("source", [
    '{{ "{0.__class__}".format(1) }}',
    '{{ "{a.__class__}".format_map({"a": 1}) }}',
    '{{ "a".__class__ }}',
    '{{ [].__class__.__base__ }}',
    '{{ {}.__init__.__globals__ }}',
])
def test_the_fast_paths_keep_the_sandbox(tmp_path, source):
    env = make_environment(tmp_path)
    with pytest.raises(SecurityError):
        env.from_string(source).render()


def test_the_fast_paths_give_what_jinja_gives(tmp_path):
    env = make_environment(tmp_path)
    assert env.from_string('{{ " A,b ".strip().lower().split(",") }}|{{ {"a": 1}.a }}|{{ {"a": 1}.get("b", 2) }}'
                           '|{% set x = [] %}{% do x.append(3) %}{{ x }}').render() == "['a', 'b']|1|2|[3]"

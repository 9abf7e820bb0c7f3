"""The report as one self-contained HTML file: inline CSS and JS, no CDN, relative links.

Every piece of cell text goes through ``html.escape`` (a ``<script>`` in a title is shown as
text), no data is ever put inside the script, and a Content-Security-Policy allows only this
page's own script (by its hash): even a mistake here could not run a script from a cell.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from html import escape

from sheet2video.report.edits import edit_list_html
from sheet2video.report.gather import Card, ReportData
from sheet2video.report.words import BADGES
from sheet2video.report.zones import zones_for, zones_html

__all__ = ["STYLE", "SCRIPT", "render_page"]

STYLE = """
:root{--bg:#f4f5f7;--card:#fff;--ink:#1d2433;--muted:#667085;--line:#e4e7ec;
--ready:#067647;--ready-bg:#dcfae6;--failed:#b42318;--failed-bg:#fee4e2;--working:#b54708;--working-bg:#fef0c7}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;background:var(--bg);color:var(--ink)}
header{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);padding:16px 24px}
h1{font-size:20px;margin:0 0 2px}
.sub{color:var(--muted);margin:0}
.preview-banner{margin:12px 0 0;padding:10px 14px;border-radius:10px;background:#eef4ff;color:#1849a9;font-weight:600}
.bar{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-top:12px}
.filter{border:1px solid var(--line);background:#fff;border-radius:999px;padding:6px 14px;font:inherit;cursor:pointer;color:var(--ink)}
.filter b{margin-left:6px}
.filter[aria-pressed=true]{background:var(--ink);color:#fff;border-color:var(--ink)}
.filter[data-filter=failed] b{color:var(--failed)}
.filter[data-filter=failed][aria-pressed=true] b{color:#fff}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:20px;padding:24px}
.card{background:var(--card);border-radius:14px;overflow:hidden;box-shadow:0 1px 3px rgba(16,24,40,.1);display:flex;flex-direction:column}
.card[hidden]{display:none}
.card.failed{outline:2px solid var(--failed-bg)}
.media{position:relative;aspect-ratio:9/16;background:#101828;display:flex;align-items:center;justify-content:center}
.media video{width:100%;height:100%;object-fit:contain;background:#101828}
.media .none{color:#98a2b3;text-align:center;padding:16px;font-size:14px}
.tag{position:absolute;top:10px;left:10px;background:#1849a9;color:#fff;font-size:12px;font-weight:700;letter-spacing:.08em;padding:3px 8px;border-radius:6px}
.body{padding:12px 14px 14px;display:flex;flex-direction:column;gap:6px}
.meta{display:flex;align-items:center;gap:8px;flex-wrap:wrap;color:var(--muted);font-size:13px}
.badge{font-weight:700;font-size:12px;padding:2px 9px;border-radius:999px}
.badge.ready{background:var(--ready-bg);color:var(--ready)}
.badge.failed{background:var(--failed-bg);color:var(--failed)}
.badge.working{background:var(--working-bg);color:var(--working)}
.badge.skipped{background:var(--line);color:var(--muted)}
.card.skipped .note{color:var(--muted)}
.dur{margin-left:auto;font-variant-numeric:tabular-nums}
h2{font-size:16px;margin:2px 0 0;overflow-wrap:anywhere}
.speech{margin:0;color:#344054;font-size:14px;white-space:pre-line;display:-webkit-box;-webkit-line-clamp:4;-webkit-box-orient:vertical;overflow:hidden;overflow-wrap:anywhere}
.speech:hover{-webkit-line-clamp:unset}
.voice,.file{margin:0;color:var(--muted);font-size:13px;overflow-wrap:anywhere}
.file a{color:#1849a9}
.oneof{margin:0;color:var(--muted);font-size:12px;font-style:italic}
.problem{margin:4px 0 0;padding:8px 10px;border-radius:8px;background:var(--failed-bg);color:var(--failed);font-size:14px}
.problem small{display:block;margin-top:4px;color:#912018;opacity:.8;font-size:11px;overflow-wrap:anywhere;font-family:ui-monospace,monospace}
.warning{margin:4px 0 0;padding:6px 10px;border-radius:8px;background:var(--working-bg);color:var(--working);font-size:13px;overflow-wrap:anywhere}
.note{margin:0;color:var(--working);font-size:14px}
.next{margin:0;font-size:13px;font-weight:600;color:#344054}
.empty{grid-column:1/-1;text-align:center;color:var(--muted);padding:48px}
.edits{margin:2px 0 0;font-size:12px;color:#344054}
.edits summary{cursor:pointer;color:var(--muted);font-size:12px;font-weight:600;margin-bottom:2px}
.shots{list-style:none;margin:0;padding:0}
.shot{display:grid;grid-template-columns:auto minmax(0,1fr) auto;column-gap:8px;padding:3px 0;border-top:1px solid var(--line);font-variant-numeric:tabular-nums}
.shot .when{grid-row:span 2;color:var(--muted);white-space:nowrap}
.shot .what{grid-column:2/4;font-weight:600;overflow-wrap:anywhere}
.shot .how{color:var(--muted);white-space:nowrap}
.shot .speed{justify-self:end;color:var(--muted);white-space:nowrap}
.shot .speed.fast,.shot .speed.slow{color:var(--working);background:var(--working-bg);border-radius:6px;padding:0 5px;font-weight:600}
.shot .tr{grid-column:2/4;color:var(--muted);font-size:11px;font-style:italic}
.zones-toggle{margin-left:auto}
.zones-toggle:focus-visible,.filter:focus-visible{outline:3px solid #84adff;outline-offset:2px}
.zones{display:none;position:absolute;inset:0;pointer-events:none}
.show-zones .zones{display:block}
.zone{position:absolute;background:repeating-linear-gradient(135deg,rgba(16,24,40,.62) 0 6px,rgba(16,24,40,.38) 6px 12px);border:0 dashed #fdb022}
.zone-top{border-bottom-width:2px}.zone-bottom{border-top-width:2px}.zone-left{border-right-width:2px}.zone-right{border-left-width:2px}
"""

SCRIPT = """
(function(){
  var buttons=document.querySelectorAll('.filter[data-filter]'),cards=document.querySelectorAll('.card');
  function show(kind){
    cards.forEach(function(c){c.hidden=!(kind==='all'||c.dataset.kind===kind);});
    buttons.forEach(function(b){b.setAttribute('aria-pressed',String(b.dataset.filter===kind));});
  }
  buttons.forEach(function(b){b.addEventListener('click',function(){show(b.dataset.filter);});});
  var toggle=document.querySelector('.zones-toggle'),key='sheet2video.report.safeZones';
  function zones(on){
    document.body.classList.toggle('show-zones',on);
    toggle.setAttribute('aria-pressed',String(on));
  }
  try{zones(localStorage.getItem(key)==='1');}catch(e){}  /* storage off (a locked-down browser): off */
  toggle.addEventListener('click',function(){
    var on=toggle.getAttribute('aria-pressed')!=='true';
    zones(on);
    try{localStorage.setItem(key,on?'1':'0');}catch(e){}
  });
})();
"""


TOGGLE = ('<button class="filter zones-toggle" type="button" aria-pressed="false" '
          'title="Shade the parts of each video that TikTok, Reels and Shorts cover with their buttons and text">'
          'Show what the apps cover</button>')


def _hash(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


def _clock(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def _rows(rows: list[int]) -> str:
    return ("Row " if len(rows) == 1 else "Rows ") + ", ".join(map(str, rows))


def _card(card: Card, preview: bool) -> str:
    e = escape
    if card.video:
        poster = f' poster="{e(card.poster)}"' if card.poster else ""
        media = f'<video controls preload="metadata" playsinline{poster} src="{e(card.video)}"></video>'
    else:
        media = f'<div class="none">{ {"failed": "No video", "skipped": "Skipped"}.get(card.kind, "Not made yet")}</div>'
    shape, zones = "", ""
    if card.video and card.size:  # the box takes the video's shape, so the bands land on its picture
        width, height = card.size
        shape, zones = f' style="aspect-ratio:{width}/{height}"', zones_html(zones_for(width, height))
    tag = '<span class="tag">PREVIEW</span>' if preview else ""
    which = f" · video {card.index + 1}/{card.of}" if card.of > 1 else ""
    duration = f'<span class="dur">{_clock(card.duration)}</span>' if card.duration else ""
    badge = "Draft ready" if preview and card.kind == "ready" else BADGES[card.kind]
    parts = [f'<div class="meta"><span class="badge {card.kind}">{badge}</span>'
             f'<span>{e(_rows(card.rows))}{which}</span>{duration}</div>']
    if card.title:
        parts.append(f'<h2 class="title">{e(card.title)}</h2>')
    elif card.titles:
        parts.append(f'<h2 class="title">{e(card.titles[0])}</h2>' if len(card.titles) == 1 else
                     f'<h2 class="title">{" / ".join(e(t) for t in card.titles)}</h2>')
    speech = card.speech or (" / ".join(card.speeches) if card.speeches else None)
    if speech:
        parts.append(f'<p class="speech">“{e(speech)}”</p>')
    if card.voice:
        parts.append(f'<p class="voice">Voice: {e(card.voice)}</p>')
    if card.one_of and (len(card.titles) > 1 or len(card.speeches) > 1):
        parts.append('<p class="oneof">Each video got one of these titles and scripts.</p>')
    parts.append(edit_list_html(card.shots))
    if card.problem:
        raw = " — ".join(e(x) for x in (card.code, card.detail) if x)
        parts.append(f'<p class="problem">{e(card.problem)}' + (f"<small>{raw}</small>" if raw else "") + "</p>")
    if card.next:
        parts.append(f'<p class="next">{e(card.next)}</p>')
    for warning in card.warnings:
        parts.append(f'<p class="warning">Made, but: {e(warning)}</p>')
    if card.note:
        parts.append(f'<p class="note">{e(card.note)}</p>')
    if card.video:
        parts.append(f'<p class="file"><a href="{e(card.video)}">{e(card.video_name or card.video)}</a></p>')
    return (f'<article class="card {card.kind}" data-kind="{card.kind}" data-job="{e(card.job)}">'
            f'<div class="media"{shape}>{media}{zones}{tag}</div><div class="body">{"".join(parts)}</div></article>')


def render_page(data: ReportData, now: datetime | None = None) -> str:
    e = escape
    made = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    total = len(data.cards)
    buttons = [f'<button class="filter" data-filter="all" aria-pressed="true">All<b>{total}</b></button>']
    for kind, label in BADGES.items():
        if kind == "skipped" and not data.counts.get(kind):
            continue  # a filter for nothing
        buttons.append(f'<button class="filter" data-filter="{kind}" aria-pressed="false">{label}'
                       f'<b class="count-{kind}">{data.counts.get(kind, 0)}</b></button>')
    banner = ""
    if data.preview:
        banner = ('<p class="preview-banner">PREVIEW — quick low-resolution drafts, one video per row. '
                  f'The real videos are not made yet: run <code>sheet2video run {e(data.sheet)}</code>.</p>')
    cards = "".join(_card(c, data.preview) for c in data.cards) or '<p class="empty">No videos yet.</p>'
    policy = (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_hash(SCRIPT)}'; "
              "img-src * data: file:; media-src * data: file:")
    title = f"{'Preview of ' if data.preview else ''}{data.sheet}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{e(policy)}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{e(title)} — videos</title>
<style>{STYLE}</style></head>
<body{' class="preview"' if data.preview else ''}>
<header><h1>{e(title)}</h1>
<p class="sub">{data.rows} row(s) · {total - data.counts.get('skipped', 0)} video(s) · {data.counts.get('ready', 0)} ready, {data.counts.get('failed', 0)} failed, {data.counts.get('working', 0)} in progress{f" · {data.counts['skipped']} skipped" if data.counts.get('skipped') else ""} · made {made}</p>{banner}
<div class="bar">{''.join(buttons)}{TOGGLE}</div></header>
<main>{cards}</main>
<script>{SCRIPT}</script>
</body></html>
"""

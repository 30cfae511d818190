"""The self-contained HTML page: plotly figures (inlined plotly.js), embedded PNGs, tables and a point viewer."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._layout import plane_coordinates, tetra_coordinates, tetra_vertices

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1250px;padding:0 18px 40px;color:#222}
h1{font-size:1.5em;margin:18px 0 4px} h2{font-size:1.15em;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:3px}
nav a{margin-right:14px;font-size:.9em} table{border-collapse:collapse;font-size:.82em;margin:6px 0 12px}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top} th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums} .swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:middle}
img{max-width:100%;border:1px solid #eee} .row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.controls{margin:6px 0;font-size:.9em} .controls input{width:6em} #point-info{font-size:.85em;margin:4px 0;white-space:pre-wrap;font-family:ui-monospace,monospace}
.muted{color:#777;font-size:.85em} details{margin:4px 0}
"""

_JS = r"""
(function(){
const D = JSON.parse(document.getElementById('report-data').textContent);
const N = D.points.length;
let current = -1;
function stickTrace(k, pos, h, base, top){
  const x=[], y=[];
  for (let j=0;j<pos.length;j++){ x.push(pos[j],pos[j],null); y.push(base, base+0.2*top*h[j], null); }
  return {x:x, y:y, mode:'lines', line:{color:D.colors[k], width:1.5}, name:D.labels[k]+' sticks', legendgroup:'p'+k, showlegend:false, hoverinfo:'skip'};
}
function showPoint(i){
  i = Math.max(0, Math.min(N-1, parseInt(i)||0));
  current = i;
  const p = D.points[i];
  const top = Math.max(1e-12, Math.max.apply(null, p.x), Math.max.apply(null, p.r));
  const res = p.x.map((v,j)=>v-p.r[j]);
  let rmax = 0, rmin = 0;
  for (const v of res){ if (v>rmax) rmax=v; if (v<rmin) rmin=v; }
  const off = -0.06*top - Math.max(rmax, 0.02*top), sbase = off + rmin - 0.26*top;
  const tr = [];
  tr.push({x:D.q, y:p.x, name:'measured', mode:'lines', line:{color:'black', width:1.6}});
  tr.push({x:D.q, y:p.r, name:'reconstruction', mode:'lines', line:{color:'crimson', width:1.2, dash:'dash'}});
  for (const k of Object.keys(p.c)){
    tr.push({x:D.q, y:p.c[k], name:D.labels[k]+' ('+(100*p.f[k]).toFixed(1)+' %, shift '+(p.s[k]===null?'–':p.s[k].toFixed(4))+')',
             mode:'lines', fill:'tozeroy', line:{color:D.colors[k], width:1}, opacity:0.55, legendgroup:'p'+k});
  }
  tr.push({x:D.q, y:res.map(v=>v+off), name:'residual (offset)', mode:'lines', line:{color:'#777', width:1}});
  for (const k of Object.keys(p.k)) tr.push(stickTrace(k, p.k[k][0], p.k[k][1], sbase, top));
  const layout = {title:{text:'point '+i+' — '+p.name, font:{size:14}}, height:560, margin:{l:60,r:20,t:50,b:50},
                  xaxis:{title:{text:'Q (nm⁻¹)'}}, yaxis:{title:{text:'intensity'}, zeroline:false},
                  legend:{font:{size:10}}, hovermode:'x'};
  Plotly.react('viewer', tr, layout, {responsive:true});
  document.getElementById('point-input').value = i;
  document.getElementById('point-info').textContent = p.info;
  const m = document.getElementById('phase-map');
  if (m && m.data){
    const sel = m.data.length-1;
    const c = D.map[i];
    const upd = D.mapkind==='ternary' ? {a:[[c[0]]], b:[[c[1]]], c:[[c[2]]]}
              : D.mapkind==='tetra' ? {x:[[c[0]]], y:[[c[1]]], z:[[c[2]]]} : {x:[[c[0]]], y:[[c[1]]]};
    Plotly.restyle(m, upd, [sel]);
  }
}
window.drnetsShowPoint = showPoint;
window.drnetsCurrentPoint = function(){ return current; };
function wire(){
  const m = document.getElementById('phase-map');
  if (m && m.on) m.on('plotly_click', function(ev){ const pt=ev.points[0]; if (pt && pt.customdata!==undefined && pt.customdata!==null) showPoint(Array.isArray(pt.customdata)?pt.customdata[0]:pt.customdata); });
  const h = document.getElementById('heatmap');
  if (h && h.on) h.on('plotly_click', function(ev){ const pt=ev.points[0]; if (!pt) return; const row=Math.round(pt.y); if (row>=0 && row<D.order.length) showPoint(D.order[row]); });
  document.getElementById('point-input').addEventListener('change', e=>showPoint(e.target.value));
  document.getElementById('prev-point').addEventListener('click', ()=>showPoint(current-1));
  document.getElementById('next-point').addEventListener('click', ()=>showPoint(current+1));
  document.getElementById('worst-point').addEventListener('click', ()=>showPoint(D.worst));
  showPoint(D.start);
  // '#click=I' in the address clicks point I on the map (a check of the wiring; also a shareable link)
  const hm = /[#&]click=(\d+)/.exec(window.location.hash);
  if (hm && m && m.emit) m.emit('plotly_click', {points:[{customdata: parseInt(hm[1])}]});
  else if (hm) showPoint(hm[1]);
}
if (document.readyState === 'complete') wire(); else window.addEventListener('load', wire);
})();
"""


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (dict, list, tuple)):
        s = json.dumps(v, default=str)
        return s if len(s) < 400 else s[:397] + "…"
    return str(v)


def table(rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None, raw_cols: Sequence[int] = ()) -> str:
    """An HTML table; cells are escaped except in ``raw_cols``."""
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for r in rows:
        cells = []
        for j, v in enumerate(r):
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            text = v if j in raw_cols else html.escape(_fmt(float(v) if isinstance(v, np.floating) else v))
            cells.append(f"<td class=num>{text}</td>" if num else f"<td>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dict to (dotted key, value) rows."""
    rows: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and len(v) <= 40:
            rows += flatten(v, key + ".")
        else:
            rows.append((key, v))
    return rows


def png_tag(path: Path, alt: str, id_: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img id="{id_}" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def map_figure(elements, compositions, fractions, labels, colors, threshold, hover):
    """Plotly map: dominant phase per point (click a point to view it), plus a 'selected' ring.

    Ternary libraries on a ternary plot, quaternary ones in a rotatable 3-D tetrahedron,
    others on plane coordinates.
    """
    import plotly.graph_objects as go

    f = np.nan_to_num(np.asarray(fractions, dtype=float))
    present = f > threshold
    dom = np.where(present.any(axis=1), np.argmax(f, axis=1), -1)
    kind = map_kind(elements)
    xy = plane_coordinates(compositions)
    xyz = tetra_coordinates(compositions) if kind == "tetra" else None
    fig = go.Figure()
    groups = [(k, labels[k], colors[labels[k]]) for k in np.unique(dom) if k >= 0]
    if (dom < 0).any():
        groups.append((-1, "no phase", "#ffffff"))
    size = float(np.clip(2400.0 / max(np.sqrt(len(f)) * 10, 1), 6, 16))
    if kind == "tetra":
        size = float(np.clip(size * 0.6, 3, 9))
        v = tetra_vertices()
        ex, ey, ez = [], [], []
        for a in range(4):
            for b in range(a + 1, 4):
                ex += [v[a, 0], v[b, 0], None]
                ey += [v[a, 1], v[b, 1], None]
                ez += [v[a, 2], v[b, 2], None]
        fig.add_trace(
            go.Scatter3d(
                x=ex,
                y=ey,
                z=ez,
                mode="lines",
                line=dict(color="#555", width=3),
                hoverinfo="skip",
                showlegend=False,
                name="tetrahedron",
            )
        )
        centre = v.mean(axis=0)
        lab = centre + 1.12 * (v - centre)
        fig.add_trace(
            go.Scatter3d(
                x=lab[:, 0],
                y=lab[:, 1],
                z=lab[:, 2],
                mode="text",
                text=list(elements),
                textfont=dict(size=16, color="#111"),
                hoverinfo="skip",
                showlegend=False,
                name="elements",
            )
        )
    if kind == "ternary":
        # Phase regions: each point's cells shaded in its phase set's mean colour, borders dark.
        from ._static import region_cells, set_color

        cells, borders = region_cells(np.asarray(compositions, dtype=float), present)
        for ks, polys in cells.items():
            a, b, c = [], [], []
            for poly in polys:
                closed = np.vstack([poly, poly[:1]])
                a += closed[:, 0].tolist() + [None]
                b += closed[:, 1].tolist() + [None]
                c += closed[:, 2].tolist() + [None]
            r, g, bl = (int(round(255 * v)) for v in set_color(ks, labels, colors))
            fig.add_trace(
                go.Scatterternary(
                    a=a,
                    b=b,
                    c=c,
                    mode="lines",
                    fill="toself",
                    line=dict(width=0),
                    fillcolor=f"rgba({r},{g},{bl},0.28)",
                    hoverinfo="skip",
                    showlegend=False,
                    name=" + ".join(labels[k] for k in ks),
                )
            )
        if borders:
            a, b, c = [], [], []
            for seg in borders:
                a += seg[:, 0].tolist() + [None]
                b += seg[:, 1].tolist() + [None]
                c += seg[:, 2].tolist() + [None]
            fig.add_trace(
                go.Scatterternary(
                    a=a,
                    b=b,
                    c=c,
                    mode="lines",
                    line=dict(color="#444", width=1),
                    hoverinfo="skip",
                    showlegend=False,
                    name="region borders",
                )
            )
    for k, name, col in groups:
        idx = np.flatnonzero(dom == k)
        common = dict(
            mode="markers",
            name=name,
            customdata=idx.tolist(),
            text=[hover[i] for i in idx],
            hovertemplate="%{text}<extra></extra>",
            marker=dict(color=col, size=size, line=dict(color="#333", width=0.5)),
        )
        if kind == "ternary":
            fig.add_trace(
                go.Scatterternary(a=compositions[idx, 0], b=compositions[idx, 1], c=compositions[idx, 2], **common)
            )
        elif kind == "tetra":
            fig.add_trace(go.Scatter3d(x=xyz[idx, 0], y=xyz[idx, 1], z=xyz[idx, 2], **common))
        else:
            fig.add_trace(go.Scatter(x=xy[idx, 0], y=xy[idx, 1], **common))
    ring = dict(
        mode="markers",
        name="selected",
        hoverinfo="skip",
        showlegend=False,
        marker=dict(color="rgba(0,0,0,0)", size=size + 10, line=dict(color="black", width=2.5)),
    )
    if kind == "ternary":
        fig.add_trace(go.Scatterternary(a=[compositions[0, 0]], b=[compositions[0, 1]], c=[compositions[0, 2]], **ring))
        fig.update_layout(
            ternary=dict(
                aaxis=dict(title=dict(text=elements[0])),
                baxis=dict(title=dict(text=elements[1])),
                caxis=dict(title=dict(text=elements[2])),
            )
        )
    elif kind == "tetra":
        fig.add_trace(
            go.Scatter3d(
                x=[xyz[0, 0]],
                y=[xyz[0, 1]],
                z=[xyz[0, 2]],
                mode="markers",
                name="selected",
                hoverinfo="skip",
                showlegend=False,
                marker=dict(symbol="circle-open", color="black", size=size + 8, line=dict(color="black", width=4)),
            )
        )
        hidden = dict(visible=False, showbackground=False, showgrid=False, zeroline=False, showticklabels=False)
        fig.update_layout(
            scene=dict(
                xaxis=hidden,
                yaxis=hidden,
                zaxis=hidden,
                aspectmode="data",
                camera=dict(eye=dict(x=1.55, y=-1.55, z=0.75)),
            )
        )
    else:
        fig.add_trace(go.Scatter(x=[xy[0, 0]], y=[xy[0, 1]], **ring))
        fig.update_layout(
            xaxis=dict(title=dict(text=elements[-1] if len(elements) == 2 else "simplex coordinate 1")),
            yaxis=dict(scaleanchor="x" if len(elements) > 2 else None),
        )
    what = "drag to rotate, click a point to view it" if kind == "tetra" else "click a point to view it"
    shade = "; shading: phase regions" if kind == "ternary" else ""
    fig.update_layout(
        title=dict(text=f"Phase map (colour: dominant phase{shade}; {what})", font=dict(size=14)),
        height=600 if kind == "tetra" else 560,
        margin=dict(l=40, r=40, t=60, b=40),
        legend=dict(font=dict(size=10)),
        clickmode="event",
    )
    return fig


def map_kind(elements) -> str:
    """'ternary', 'tetra' (quaternary) or 'plane'."""
    return {3: "ternary", 4: "tetra"}.get(len(elements), "plane")


def map_coordinates(elements, compositions) -> np.ndarray:
    """The coordinates the plotly map uses per point (for the viewer's selection ring)."""
    kind = map_kind(elements)
    if kind == "ternary":
        return np.asarray(compositions, dtype=float)
    if kind == "tetra":
        return tetra_coordinates(compositions)
    return plane_coordinates(compositions)


def heatmap_figure(q, patterns, order, sticks, labels, colors):
    """Plotly heat map of the patterns along the path with sticks per phase."""
    import plotly.graph_objects as go

    z = np.sqrt(np.clip(patterns[order], 0, None))
    step = max(1, int(np.ceil(z.size / 1.5e6)))
    zq, qq = z[:, ::step], q[::step]
    scale = float(zq.max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=np.round(zq / scale, 4),
            x=np.round(qq, 4),
            y=np.arange(len(order)),
            colorscale="Greys",
            reversescale=False,
            showscale=False,
            customdata=np.repeat(np.asarray(order)[:, None], zq.shape[1], axis=1),
            hovertemplate="Q %{x}<br>row %{y} (point %{customdata})<extra></extra>",
        )
    )
    by: dict[int, tuple[list, list]] = {}
    for row, k, pos, _h in sticks:
        xs, ys = by.setdefault(k, ([], []))
        xs.extend(np.round(pos, 4).tolist())
        ys.extend([row] * len(pos))
    for k, (xs, ys) in sorted(by.items()):
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                name=labels[k],
                hoverinfo="skip",
                marker=dict(symbol="line-ns-open", size=7, color=colors[labels[k]], line=dict(width=1.5)),
            )
        )
    fig.update_layout(
        title=dict(
            text="Patterns along a path through the library (√ intensity) with fitted sticks; click a row",
            font=dict(size=14),
        ),
        height=620,
        margin=dict(l=60, r=20, t=60, b=50),
        xaxis=dict(title=dict(text="Q (nm⁻¹)")),
        yaxis=dict(title=dict(text="row along the path")),
        legend=dict(font=dict(size=10)),
    )
    return fig


def page(title: str, sections: list[tuple[str, str, str]], data: dict[str, Any]) -> str:
    """Assemble the page: (anchor, heading, body html) sections and the viewer's data blob."""
    from plotly.offline import get_plotlyjs

    nav = " ".join(f'<a href="#{a}">{html.escape(h)}</a>' for a, h, _ in sections)
    body = "\n".join(f'<section id="{a}"><h2>{html.escape(h)}</h2>\n{b}\n</section>' for a, h, b in sections)
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n</head><body>\n'
        f"<h1>{html.escape(title)}</h1>\n<nav>{nav}</nav>\n{body}\n"
        f'<script id="report-data" type="application/json">{blob}</script>\n'
        f"<script>{_JS}</script>\n</body></html>\n"
    )


VIEWER_HTML = """
<div class="controls">point <input id="point-input" type="number" min="0" step="1" value="0">
<button id="prev-point">◀ previous</button> <button id="next-point">next ▶</button>
<button id="worst-point">worst residual</button>
<span class="muted">or click a point on the phase map or a row of the heat map</span></div>
<div id="point-info"></div>
<div id="viewer" style="height:560px"></div>
"""

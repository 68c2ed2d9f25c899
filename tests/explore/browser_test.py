"""The explorer pages in a real browser (headless Chromium), checked against the model files.

For each example model: `tern quantize --explore` (before.html, after.html), `tern explore` of
the model and of the quantized file, `tern explore --compare`. Each page is loaded with
tests/explore/page_check.js inserted, which clicks every node box through the page's DOM
events and reports the node panel; this script compares that with what the ONNX file says
(read with protoc, independently of Tern): every node present, its op, its inputs and
outputs in order, Conv output channels equal to the weights' first dimension, the graph
input's declared shape. Also: no console error, no network request, files under 3 MiB, the
search finds a node.

    python3 browser_test.py TERN MODELS_DIR ONNX_PROTO [CHROMIUM]
"""
import codecs
import html
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

TERN, MODELS, ONNX_PROTO = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
CHROMIUM = sys.argv[4] if len(sys.argv) > 4 else "chromium"
CHECK_JS = (pathlib.Path(__file__).parent / "page_check.js").read_text()
MAX_BYTES = 3 * 1024 * 1024
failures = []


def fail(what):
    failures.append(what)
    print("FAIL:", what)


# --- the ONNX file, read with protoc (text format) -----------------------------------------

def parse_text_format(text):
    """protoc's text format as nested dicts: field -> list of values (str or dict)."""
    root, stack = {}, []
    current = root
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line == "}":
            current = stack.pop()
            continue
        if line.endswith("{"):
            child = {}
            current.setdefault(line[:-1].strip(), []).append(child)
            stack.append(current)
            current = child
            continue
        key, _, value = line.partition(": ")
        if value.startswith('"'):
            value = codecs.decode(value[1:-1], "unicode_escape")
        current.setdefault(key, []).append(value)
    return root


def read_model(path):
    decoded = subprocess.run(["protoc", f"--proto_path={ONNX_PROTO.parent}", "--decode=onnx.ModelProto",
                              ONNX_PROTO.name], stdin=open(path, "rb"), capture_output=True, check=True).stdout
    graph = parse_text_format(decoded.decode("latin-1"))["graph"][0]
    initializers = {t["name"][0]: [int(d) for d in t.get("dims", [])] for t in graph.get("initializer", [])}
    nodes = [n for n in graph.get("node", []) if n["op_type"][0] != "Constant"]  # Tern keeps those as constants
    inputs = {}
    for value in graph.get("input", []):
        if value["name"][0] in initializers:
            continue
        dims = value["type"][0]["tensor_type"][0].get("shape", [{}])[0].get("dim", [])
        inputs[value["name"][0]] = [d["dim_value"][0] if "dim_value" in d else "?" for d in dims]
    return nodes, initializers, inputs


# --- a page in headless Chromium -------------------------------------------------------------

def run_page(page, search_term):
    """Loads `page` with the check script inserted; returns what the script reported."""
    source = page.read_text()
    script = f"<script>window.TERN_CHECK = {json.dumps({'search': search_term})};\n{CHECK_JS}</script>"
    checked = page.with_name(page.stem + ".checked.html")
    checked.write_text(source.replace("<head>", "<head>" + script, 1))
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                          "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=5000", "--dump-dom",
                          checked.resolve().as_uri()], capture_output=True, text=True, timeout=120).stdout
    found = re.findall(r'<pre id="tern-check-result">(\{.*?)</pre>', dom, re.S)
    if not found:
        fail(f"{page}: the check script reported nothing (page did not load?)")
        return None
    return json.loads(html.unescape(found[-1]))


def check_page(page, expected_nodes, initializers, inputs, graph_index=0):
    """Every file node in the page's graph `graph_index` with the file's facts."""
    size = page.stat().st_size
    if size >= MAX_BYTES:
        fail(f"{page}: {size} bytes, over 3 MiB")
    names = [n["name"][0] for n in expected_nodes]
    report = run_page(page, names[len(names) // 2] if names else None)
    if report is None:
        return
    for error in report["errors"]:
        fail(f"{page}: {error}")
    if report["resources"]:
        fail(f"{page}: {report['resources']} network/resource request(s)")
    shown = {}
    for node in report["nodes"]:
        if not node["selected"] or node["panel_node"] != node["name"]:
            fail(f"{page}: clicking {node['id']} did not select it and show its panel ({node})")
        if node["id"].startswith(f"g{graph_index}-"):
            shown[node["name"]] = node
    for node in expected_nodes:
        name, op = node["name"][0], node["op_type"][0]
        panel = shown.get(name)
        if panel is None:
            fail(f"{page}: node '{name}' ({op}) of the file is not drawn")
            continue
        if panel["op"] != op:
            fail(f"{page}: node '{name}' shows op {panel['op']}, the file says {op}")
        for kind, key in (("input", "input"), ("output", "output")):
            want = [v for v in node.get(key, []) if v]
            got = [row["name"] for row in panel["io"] if row["kind"] == kind]
            if got != want:
                fail(f"{page}: node '{name}' shows {kind}s {got}, the file says {want}")
        rows = {row["name"]: row for row in panel["io"]}
        for value, dims in inputs.items():
            if value in rows and rows[value]["shape"] != "[" + ",".join(dims) + "]":
                fail(f"{page}: input '{value}' shows shape {rows[value]['shape']}, the file declares {dims}")
        if op == "Conv" and node["input"][1] in initializers:
            channels = initializers[node["input"][1]][0]
            shape = rows[node["output"][0]]["shape"].strip("[]").split(",")
            if len(shape) < 2 or shape[1] != str(channels):
                fail(f"{page}: Conv '{name}' output shape {rows[node['output'][0]]['shape']}, "
                     f"but its weights have {channels} output channels")
    search = report["search"]
    if names and (not search or not search["found"] or search["count"] in (None, "", "no match")):
        fail(f"{page}: searching '{names[len(names) // 2]}' found nothing ({search})")
    print(f"ok: {page.name}: {len(report['nodes'])} nodes clicked, {len(expected_nodes)} file nodes checked, "
          f"{size // 1024} KiB")


def tern(*args):
    result = subprocess.run([TERN, *args], capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"tern {' '.join(args)}: exit {result.returncode}: {result.stderr.strip()}")
    return result


with tempfile.TemporaryDirectory(prefix="tern-explore-test.") as scratch:
    scratch = pathlib.Path(scratch)
    models = sorted(MODELS.glob("*.onnx"))
    if not models:
        fail(f"no example models in {MODELS}")
    for model in models:
        folder = scratch / model.stem
        quantized = folder / "quantized.onnx"
        folder.mkdir()
        tern("quantize", str(model), "-o", str(quantized), "--calib-size", "16", "--explore", str(folder))
        tern("explore", str(model), "-o", str(folder / "model.html"))
        tern("explore", str(quantized), "-o", str(folder / "quantized.html"))
        tern("explore", str(model), "--compare", str(quantized), "-o", str(folder / "compare.html"))
        nodes, initializers, inputs = read_model(model)
        q_nodes, q_initializers, q_inputs = read_model(quantized)
        for page, facts in (("model.html", (nodes, initializers, inputs)),
                            ("before.html", (nodes, initializers, inputs)),
                            ("quantized.html", (q_nodes, q_initializers, q_inputs))):
            if (folder / page).exists():
                check_page(folder / page, *facts)
        if (folder / "compare.html").exists():
            check_page(folder / "compare.html", nodes, initializers, inputs, graph_index=0)
            check_page(folder / "compare.html", q_nodes, q_initializers, q_inputs, graph_index=1)
        # after.html: the integer graph lives only in memory; it must load cleanly with
        # every box clickable (checked inside check_page with no file facts to compare).
        if (folder / "after.html").exists():
            check_page(folder / "after.html", [], {}, {})

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all explorer pages pass")

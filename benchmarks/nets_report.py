"""Markdown tables for benchmarks/nets.py: raw medians, ratios against the
fastest peer, and the target each ratio is compared with."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_PARAMS = {"mnist": (93_322, 93_322), "cifar10": (591_914, 592_554), "faces": (5_595_042, 5_595_042)}

# Targets: the ratio each row is compared against.
TRAIN_TARGET = 0.7        # pycnn step time <= 0.7 x the fastest peer's
INFER_TARGET = 1.25       # pycnn images/s >= 1.25 x the fastest peer's
RSS_TARGET = 0.35         # pycnn peak RSS <= 0.35 x PyTorch's
IMPORT_TARGET_S = 0.3     # pycnn import < 0.3 s
SPEEDUP_TARGET = 1.7      # pycnn 1 -> 2 thread training speed-up


def _git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    except OSError:
        return None
    return out.stdout.strip() or None


def _percentile(values, q):
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def _met(ok):
    return "yes" if ok else "**no**"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _ms(seconds):
    ms = 1e3 * seconds
    return f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def _header(ctx):
    from pycnn.applications.bench import cpu_model

    args, versions = ctx["args"], ctx["versions"]
    commit = _git_commit()
    order = ["pycnn", "python", "numpy", "torch", "keras", "tensorflow"]
    shown = ", ".join(f"{k} {versions[k]}" + (f" (commit {commit})" if k == "pycnn" and commit else "")
                      for k in order if k in versions)
    canary = ctx["canary"]
    waits = ", ".join(f"{t} thr: waited {canary.waited_s.get(t, 0.0):.1f} s, {canary.redone.get(t, 0)} reps redone"
                      for t in args.threads)
    title = "Whole networks: pycnn vs PyTorch and Keras" + (" — SMOKE RUN (--quick), not results" if args.quick else "")
    lines = [f"#### {title}", "",
             f"- Date: {ctx['started']:%Y-%m-%d %H:%M %Z}; run took {ctx['elapsed_s']:.0f} s",
             f"- CPU: {cpu_model()}, {os.cpu_count()} cores",
             f"- Versions: {shown}",
             f"- Command: `{ctx['command']}`",
             f"- Method: {args.reps} interleaved repetitions of >= {args.min_seconds} s each after "
             f"{args.warmup} warm-up call(s), medians; one worker process per framework and thread count.",
             f"- Canary (four 256x256 GEMMs, 2 threads): quiet {canary.quiet_ms:.2f} ms, limit "
             f"{canary.limit_ms:.2f} ms; during the run median {_percentile(canary.samples, 50):.2f} ms, "
             f"90th percentile {_percentile(canary.samples, 90):.2f} ms; {waits}.", ""]
    if "keras" not in ctx["pythons"]:
        lines += ["Keras / TensorFlow: not available in this run (pass --keras-python).", ""]
    return lines


def _params_table(params, configs):
    ok = True
    rows = []
    for net, counts in params.items():
        trainable, total = EXPECTED_PARAMS[net]
        cells = []
        for config in configs:
            got = counts.get(config)
            if got is None:
                continue
            ok_here = tuple(got) == (trainable, total)
            ok &= ok_here
            cells.append(f"{got[0]:,} / {got[1]:,}" + ("" if ok_here else " **mismatch**"))
        rows.append([net, f"{trainable:,} / {total:,}"] + cells)
    header = ["net", "expected (trainable / total)"] + [c for c in configs if any(c in v for v in params.values())]
    return ["Parameter counts (trainable / total incl. BN moving statistics)", ""] + _table(header, rows), ok


def _train_table(ctx, medians, configs):
    peers = [c for c in configs if c != "pycnn"]
    rows = []
    for net, cfg in ctx["spec"]["nets"].items():
        for threads in ctx["args"].threads:
            t = {c: medians[key] for key in medians for c in configs
                 if key[0] == net and key[1] == "train" and key[2] == threads and key[4] == c}
            row = [net, cfg["batch"], threads] + [_ms(t[c]) for c in configs]
            if peers:
                best = min(peers, key=t.get)
                ratio = t[best] / t["pycnn"]
                row += [best, f"{ratio:.2f}x", _met(ratio >= 1 / TRAIN_TARGET)]
            rows.append(row)
    header = ["net", "batch", "threads"] + [f"{c} ms" for c in configs]
    if peers:
        header += ["fastest peer", "peer / pycnn", f"target >= {1 / TRAIN_TARGET:.2f}x (pycnn <= {TRAIN_TARGET}x)"]
    return ["Training step, ms (median; lower is better)", ""] + _table(header, rows)


def _infer_table(ctx, medians, configs):
    peers = [c for c in configs if c != "pycnn"]
    rows = []
    for net, cfg in ctx["spec"]["nets"].items():
        for batch in cfg["infer_batches"]:
            for threads in ctx["args"].threads:
                ips = {key[4]: batch / medians[key] for key in medians
                       if key[0] == net and key[1] == f"infer{batch}" and key[2] == threads}
                row = [net, batch, threads] + [f"{ips[c]:,.0f}" for c in configs]
                if peers:
                    best = max(peers, key=ips.get)
                    ratio = ips["pycnn"] / ips[best]
                    row += [best, f"{ratio:.2f}x", _met(ratio >= INFER_TARGET)]
                rows.append(row)
    header = ["net", "batch", "threads"] + [f"{c} img/s" for c in configs]
    if peers:
        header += ["fastest peer", "pycnn / peer", f"target >= {INFER_TARGET}x"]
    return ["Inference, images/s (median; higher is better)", ""] + _table(header, rows)


def _speedup_table(ctx, medians, configs):
    threads = ctx["args"].threads
    if 1 not in threads or 2 not in threads:
        return []
    rows = []
    for net in ctx["spec"]["nets"]:
        t = {(key[2], key[4]): medians[key] for key in medians if key[0] == net and key[1] == "train"}
        speedups = {c: t[1, c] / t[2, c] for c in configs}
        rows.append([net, _ms(t[1, "pycnn"]), _ms(t[2, "pycnn"])] + [f"{speedups[c]:.2f}x" for c in configs]
                    + [_met(speedups["pycnn"] >= SPEEDUP_TARGET)])
    header = ["net", "pycnn 1 thr ms", "pycnn 2 thr ms"] + [f"{c} speed-up" for c in configs]
    header += [f"pycnn target >= {SPEEDUP_TARGET}x"]
    return ["Training step speed-up from 1 to 2 threads", ""] + _table(header, rows)


def _memory_table(ctx, rss, configs):
    torch_configs = [c for c in configs if c.startswith("torch")]
    rows = []
    for net in ctx["spec"]["nets"]:
        row = [net] + [f"{rss[net, c]['import_mib']:.0f} / {rss[net, c]['peak_mib']:.0f}" for c in configs]
        if torch_configs:
            lowest = min(torch_configs, key=lambda c: rss[net, c]["peak_mib"])
            ratio = rss[net, "pycnn"]["peak_mib"] / rss[net, lowest]["peak_mib"]
            row += [lowest, f"{ratio:.2f}x", _met(ratio <= RSS_TARGET)]
        row += [" / ".join(f"{rss[net, c]['ms_per_step']:.0f}" for c in configs)]
        rows.append(row)
    header = ["net"] + [f"{c} MiB (import / peak)" for c in configs]
    if torch_configs:
        header += ["lowest torch", "pycnn / torch peak", f"target <= {RSS_TARGET}x"]
    header += ["ms/step (sanity, same order)"]
    threads, steps = max(ctx["args"].threads), ctx["args"].rss_steps
    title = (f"Memory: RSS after import and peak RSS (ru_maxrss) after {steps} training steps, "
             f"fresh process per framework and net, {threads} threads")
    return [title, ""] + _table(header, rows)


def _import_table(ctx, imports):
    rows = [[f, f"{s:.3f}", _met(s < IMPORT_TARGET_S) if f == "pycnn" else ""] for f, s in imports.items()]
    title = f"Import time, s (fresh process, median of {ctx['args'].import_reps})"
    return [title, ""] + _table(["package", "seconds", f"pycnn target < {IMPORT_TARGET_S} s"], rows)


def render(ctx, medians, params, rss, imports):
    """(markdown text, whether every parameter count matched)."""
    configs = ctx["configs"]
    params_lines, params_ok = _params_table(params, configs)
    lines = _header(ctx) + params_lines
    lines += _train_table(ctx, medians, configs) + _infer_table(ctx, medians, configs)
    lines += _speedup_table(ctx, medians, configs) + _memory_table(ctx, rss, configs) + _import_table(ctx, imports)
    return "\n".join(lines).rstrip() + "\n", params_ok

"""Benchmark 4: time to accuracy on Fashion-MNIST (cnn, 2 workers, standalone mode, batch 128
per rank, SGD momentum 0.9, same epoch budget for every schedule): the first epoch whose
test accuracy (all 10,000 test images, measured by the ranks together) reaches the target,
and the wall time from process start to that epoch's line. Schedules: one-cycle and triangular2
against `constant` at four LRs. Writes a plot of test accuracy and the last training batch's
loss per epoch per schedule.
"""
import os

from . import runner, svg_plot

TARGET = 0.91
BATCH = 128
CONSTANT_LRS = (0.003, 0.01, 0.03, 0.1)


def schedules(steps_per_epoch, epochs):
    total = steps_per_epoch * epochs
    s = {
        "one-cycle": {"policy": "one-cycle", "maxLr": 0.1, "totalSteps": str(total),
                      "pctStart": 0.3, "baseMomentum": 0.85, "maxMomentum": 0.95},
        # Cycles of 2 epochs ending at base_lr on even epochs, amplitude halving each cycle.
        "triangular2": {"policy": "triangular2", "baseLr": 0.005, "maxLr": 0.1,
                        "stepSizeUp": str(steps_per_epoch)},
    }
    for lr in CONSTANT_LRS:
        s[f"constant {lr:g}"] = {"policy": "constant", "baseLr": lr}
    return s


def train(name, schedule, epochs, train_limit, test_limit, timeout_s, seed=1):
    d = runner.fresh_dir("tta")
    os.mkdir(os.path.join(d, "rdv"))
    spec = runner.spec_json(
        os.path.join(d, "spec.json"), model="cnn", dataset="fashion-mnist",
        trainLimit=str(train_limit), testLimit=str(test_limit), epochs=epochs, batchSize=BATCH,
        momentum=0.9, seed=str(seed), schedule=schedule)
    worker = runner.binary("cyclr-worker")
    cmds = [[worker, "--standalone", spec, "--rank", str(r), "--world-size", "2",
             "--rendezvous-dir", os.path.join(d, "rdv"), "--threads", "1"] for r in range(2)]
    procs = runner.run_ranks(cmds, timeout_s)
    runner.remove(d)
    curve = []
    for t, line in procs[0].lines:
        m = runner.EPOCH_RE.search(line)
        if m and int(m.group(1)) == 0:
            curve.append({"epoch": int(m.group(2)), "step": int(m.group(4)),
                          "loss": float(m.group(5)), "accuracy": float(m.group(6)),
                          "wall_s": round(t, 2)})
    if len(curve) != epochs:
        raise runner.BenchError(f"{name}: expected {epochs} epoch lines, got {len(curve)}")
    hit = next((c for c in curve if c["accuracy"] >= TARGET), None)
    return {"schedule": schedule, "curve": curve,
            "epochs_to_target": hit["epoch"] if hit else None,
            "wall_s_to_target": hit["wall_s"] if hit else None,
            "best_accuracy": max(c["accuracy"] for c in curve)}


def run(epochs=8, train_limit=60000, test_limit=10000, plot_path=None, log=print):
    steps_per_epoch = train_limit // 2 // BATCH
    results = {}
    for name, sched in schedules(steps_per_epoch, epochs).items():
        r = train(name, sched, epochs, train_limit, test_limit, timeout_s=epochs * 120 + 60)
        results[name] = r
        hit = (f"{TARGET:.0%} at epoch {r['epochs_to_target']} ({r['wall_s_to_target']:.0f} s)"
               if r["epochs_to_target"] else f"{TARGET:.0%} not reached")
        log(f"  tta {name}: best {r['best_accuracy']:.4f}, {hit}; per epoch "
            + " ".join(f"{c['accuracy']:.4f}" for c in r["curve"]))
    if plot_path:
        plot(results, plot_path, epochs, train_limit)
    return {"epochs": epochs, "train_limit": train_limit, "test_limit": test_limit,
            "target": TARGET, "schedules": results}


def plot(results, path, epochs, train_limit):
    acc = [(n, [(c["epoch"], c["accuracy"]) for c in r["curve"]]) for n, r in results.items()]
    loss = [(n, [(c["epoch"], c["loss"]) for c in r["curve"]]) for n, r in results.items()]
    ys = [y for _, pts in acc for _, y in pts]
    title = f"Fashion-MNIST cnn, 2 x 128 per step, {train_limit} images"
    svg_plot.render(path, [
        svg_plot.Panel("Test accuracy per epoch — " + title, "test accuracy", acc,
                       hline=TARGET, ylim=(min(ys + [TARGET]) - 0.01, max(ys + [TARGET]) + 0.005)),
        svg_plot.Panel("Training loss (last batch of the epoch, rank 0)", "loss", loss),
    ], xlabel="epoch")

#!/usr/bin/python3
"""Writes reference traces of PyTorch's own LR schedulers for tests/core/reference_test.cc.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 tests/reference/gen_traces.py
Each case becomes tests/reference/<name>.csv:

    # spec: policy=triangular base_lr=0.001 max_lr=0.006 step_size_up=20
    # torch: 1.13.1 CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=20, ...)
    step,lr,momentum
    0,0.001,
    ...

`spec` is the cyclr spec (option=value, parsed by SpecFromOptions); step k is PyTorch's last_epoch
k, i.e. the values in force during training step k; lr/momentum are Python's repr (exact); an
empty momentum means the scheduler does not cycle momentum. Long traces keep every `stride`-th
row (and the last) to keep the files small.
"""
import math
import os

import torch
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts, CyclicLR, LambdaLR, OneCycleLR

OUT_DIR = os.path.dirname(os.path.abspath(__file__))


def cyclic(spec, steps):
    kwargs = dict(base_lr=spec['base_lr'], max_lr=spec['max_lr'])
    if 'step_size_up' in spec:
        kwargs['step_size_up'] = spec['step_size_up']
    if 'step_size_down' in spec:
        kwargs['step_size_down'] = spec['step_size_down']
    mode = spec['policy']
    kwargs['mode'] = mode
    if 'gamma' in spec:
        kwargs['gamma'] = spec['gamma']
    if 'scale_mode' in spec:
        # PyTorch honours scale_mode only with a custom scale_fn: pass the mode's own function.
        gamma = spec.get('gamma', 1.0)
        fns = {'triangular': lambda x: 1.,
               'triangular2': lambda x: 1 / (2. ** (x - 1)),
               'exp_range': lambda x: gamma ** (x)}
        kwargs['scale_fn'] = fns[mode]
        kwargs['scale_mode'] = spec['scale_mode']
    momentum = 'base_momentum' in spec
    kwargs['cycle_momentum'] = momentum
    if momentum:
        kwargs['base_momentum'] = spec['base_momentum']
        kwargs['max_momentum'] = spec['max_momentum']
    return lambda opt: CyclicLR(opt, **kwargs), steps, kwargs


def one_cycle(spec, steps=None):
    kwargs = dict(max_lr=spec['max_lr'], total_steps=spec['total_steps'])
    names = {'pct_start': 'pct_start', 'anneal': 'anneal_strategy', 'div_factor': 'div_factor',
             'final_div_factor': 'final_div_factor', 'three_phase': 'three_phase'}
    for ours, theirs in names.items():
        if ours in spec:
            kwargs[theirs] = spec[ours]
    momentum = 'base_momentum' in spec
    kwargs['cycle_momentum'] = momentum
    if momentum:
        kwargs['base_momentum'] = spec['base_momentum']
        kwargs['max_momentum'] = spec['max_momentum']
    # Steps 0 .. total_steps - 1 (PyTorch extrapolates at total_steps and raises after it).
    return lambda opt: OneCycleLR(opt, **kwargs), spec['total_steps'], kwargs


def cosine(spec, steps):
    kwargs = dict(T_0=spec['t0'], T_mult=spec.get('t_mult', 1), eta_min=spec.get('base_lr', 0))
    return lambda opt: CosineAnnealingWarmRestarts(opt, **kwargs), steps, kwargs


def range_test(spec, steps):
    """The LR range test as LambdaLR on an optimizer whose lr is base_lr: fastai's exponential
    rule, start * (end / start) ** pos, or DeepSpeed's LRRangeTest linear rule,
    min_lr * (1 + step_rate * step) with step_rate chosen to reach max_lr at the last step."""
    start, end, last = spec['base_lr'], spec['max_lr'], spec['total_steps'] - 1
    if spec.get('ramp', 'exp') == 'exp':
        lam = lambda t: (end / start) ** (min(t, last) / last)  # noqa: E731
    else:
        rate = (end / start - 1.0) / last
        lam = lambda t: 1.0 + rate * min(t, last)  # noqa: E731
    return lambda opt: LambdaLR(opt, lam), steps, dict(rule=spec.get('ramp', 'exp'))


# (name, spec, builder, steps, stride)
CASES = [
    ('triangular_sym', dict(policy='triangular', base_lr=0.001, max_lr=0.006, step_size_up=20),
     cyclic, 200, 1),
    ('triangular_asym_momentum',
     dict(policy='triangular', base_lr=0.0012345, max_lr=0.0987, step_size_up=7,
          step_size_down=13, base_momentum=0.8, max_momentum=0.9), cyclic, 200, 1),
    ('triangular_default_steps', dict(policy='triangular', base_lr=0.01, max_lr=0.1),
     cyclic, 12000, 7),
    ('triangular2_asym_momentum',
     dict(policy='triangular2', base_lr=0.0003, max_lr=0.03, step_size_up=10, step_size_down=25,
          base_momentum=0.85, max_momentum=0.95), cyclic, 250, 1),
    ('triangular2_iterations',
     dict(policy='triangular2', base_lr=0.002, max_lr=0.02, step_size_up=4, step_size_down=6,
          scale_mode='iterations'), cyclic, 60, 1),
    ('exp_range_iterations',
     dict(policy='exp_range', base_lr=0.001, max_lr=0.1, step_size_up=15, gamma=0.99),
     cyclic, 300, 1),
    ('exp_range_cycle_mode',
     dict(policy='exp_range', base_lr=0.005, max_lr=0.05, step_size_up=10, step_size_down=5,
          gamma=0.7, scale_mode='cycle', base_momentum=0.7, max_momentum=0.95), cyclic, 200, 1),
    ('exp_range_many_cycles',
     dict(policy='exp_range', base_lr=0.0001, max_lr=0.3, step_size_up=3, step_size_down=1,
          gamma=0.9995, base_momentum=0.8, max_momentum=0.9), cyclic, 3000, 3),
    ('exp_range_default_gamma',
     dict(policy='exp_range', base_lr=0.01, max_lr=0.02, step_size_up=5), cyclic, 50, 1),
    ('one_cycle_cos_momentum',
     dict(policy='one-cycle', max_lr=0.1, total_steps=1000, base_momentum=0.85,
          max_momentum=0.95), one_cycle, None, 3),
    ('one_cycle_linear',
     dict(policy='one-cycle', max_lr=0.4, total_steps=300, pct_start=0.25, anneal='linear',
          div_factor=10.0, final_div_factor=100.0), one_cycle, None, 1),
    ('one_cycle_three_phase',
     dict(policy='one-cycle', max_lr=0.05, total_steps=500, three_phase=True,
          base_momentum=0.8, max_momentum=0.9), one_cycle, None, 1),
    ('one_cycle_three_phase_linear',
     dict(policy='one-cycle', max_lr=1.5, total_steps=97, pct_start=0.4, anneal='linear',
          three_phase=True, base_momentum=0.5, max_momentum=0.99), one_cycle, None, 1),
    ('one_cycle_short',
     dict(policy='one-cycle', max_lr=0.01, total_steps=7, pct_start=0.5), one_cycle, None, 1),
    ('cosine_restarts_t1', dict(policy='cosine-restarts', max_lr=0.1, t0=10), cosine, 100, 1),
    ('cosine_restarts_t2',
     dict(policy='cosine-restarts', base_lr=0.001, max_lr=0.05, t0=5, t_mult=2), cosine, 600, 1),
    ('cosine_restarts_t3',
     dict(policy='cosine-restarts', base_lr=1e-05, max_lr=1.0, t0=3, t_mult=3), cosine, 1200, 2),
    ('cosine_restarts_t0_1',
     dict(policy='cosine-restarts', base_lr=0.0, max_lr=0.2, t0=1, t_mult=2), cosine, 200, 1),
    ('range_test_exp',
     dict(policy='range-test', base_lr=1e-05, max_lr=1.0, total_steps=200), range_test, 230, 1),
    ('range_test_linear',
     dict(policy='range-test', base_lr=0.0001, max_lr=0.5, total_steps=97, ramp='linear'),
     range_test, 120, 1),
]


def spec_text(spec):
    def fmt(v):
        if isinstance(v, bool):
            return 'true' if v else 'false'
        return v if isinstance(v, str) else repr(v)
    return ' '.join('{}={}'.format(k, fmt(v)) for k, v in spec.items())


def trace(make, steps, initial_lr, cycles_momentum):
    """Values in force at steps 0 .. steps-1: read after construction, then after each step()."""
    param = torch.zeros(1, requires_grad=True)
    # CosineAnnealingWarmRestarts takes its peak from the optimizer's lr (our max_lr).
    opt = torch.optim.SGD([param], lr=initial_lr, momentum=0.9)
    sched = make(opt)
    rows = []
    for step in range(steps):
        if step > 0:
            opt.step()
            sched.step()
        group = opt.param_groups[0]
        rows.append((step, group['lr'], group['momentum'] if cycles_momentum else None))
    return rows, type(sched).__name__


def main():
    total = 0
    for name, spec, builder, steps, stride in CASES:
        make, n, kwargs = builder(spec, steps)
        initial = spec['base_lr'] if spec['policy'] == 'range-test' else spec['max_lr']
        rows, scheduler = trace(make, n, initial, 'base_momentum' in spec)
        kept = [r for r in rows if r[0] % stride == 0 or r[0] == n - 1]
        args = ', '.join('{}={!r}'.format(k, v) for k, v in kwargs.items() if k != 'scale_fn')
        path = os.path.join(OUT_DIR, name + '.csv')
        with open(path, 'w') as f:
            f.write('# spec: {}\n'.format(spec_text(spec)))
            f.write('# torch: {} {}({})\n'.format(torch.__version__, scheduler, args))
            f.write('step,lr,momentum\n')
            for step, lr, m in kept:
                assert math.isfinite(lr)
                f.write('{},{!r},{}\n'.format(step, lr, '' if m is None else repr(m)))
        total += os.path.getsize(path)
        print('{}: {} rows'.format(os.path.relpath(path), len(kept)))
    print('total {} bytes'.format(total))


if __name__ == '__main__':
    main()

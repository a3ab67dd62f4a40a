"""TensorFlow 1 decays against their formulas, evaluated independently with NumPy in float64."""
import numpy as np
import pytest

import gradkit as gk
from gradkit import optim
from gradkit.optim import lr_scheduler as S

LR = 0.1
STEPS = 400


def _optimizer():
    return optim.SGD([gk.zeros(3, requires_grad=True)], lr=LR)


def _rates(scheduler_factory, steps=STEPS):
    opt = _optimizer()
    sched = scheduler_factory(opt)
    rates = [sched.get_last_lr()[0]]
    for _ in range(steps):
        opt.step()
        sched.step()
        rates.append(sched.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] == rates[-1]
    return np.array(rates)


STEP = np.arange(STEPS + 1, dtype=np.float64)  # global_step after 0, 1, ..., STEPS calls of step()


def _linear_cosine(step, decay_steps, num_periods, alpha, beta, noise=0.0):
    step = np.minimum(step, decay_steps)
    linear = (decay_steps - step) / decay_steps + noise
    cosine = 0.5 * (1.0 + np.cos(np.pi * 2.0 * num_periods * step / decay_steps))
    return LR * ((alpha + linear) * cosine + beta)


def _polynomial(step, decay_steps, end, power, cycle):
    if cycle:
        multiplier = np.where(step == 0, 1.0, np.ceil(step / decay_steps))
        decay_steps = decay_steps * multiplier
    else:
        step = np.minimum(step, decay_steps)
    return (LR - end) * (1 - step / decay_steps) ** power + end


CASES = {
    "exponential": (lambda o: S.ExponentialDecay(o, decay_steps=30, decay_rate=0.7),
                    lambda t: LR * 0.7 ** (t / 30)),
    "exponential-staircase": (lambda o: S.ExponentialDecay(o, 30, 0.7, staircase=True),
                              lambda t: LR * 0.7 ** np.floor(t / 30)),
    "natural-exp": (lambda o: S.NaturalExpDecay(o, decay_steps=50, decay_rate=0.4),
                    lambda t: LR * np.exp(-0.4 * t / 50)),
    "natural-exp-staircase": (lambda o: S.NaturalExpDecay(o, 50, 0.4, staircase=True),
                              lambda t: LR * np.exp(-0.4 * np.floor(t / 50))),
    "polynomial": (lambda o: S.PolynomialDecay(o, decay_steps=150),
                   lambda t: _polynomial(t, 150, 1e-4, 1.0, False)),
    "polynomial-power": (lambda o: S.PolynomialDecay(o, 150, end_learning_rate=0.01, power=0.5),
                         lambda t: _polynomial(t, 150, 0.01, 0.5, False)),
    "polynomial-cycle": (lambda o: S.PolynomialDecay(o, 70, end_learning_rate=0.001, power=2.0, cycle=True),
                         lambda t: _polynomial(t, 70, 0.001, 2.0, True)),
    "cosine": (lambda o: S.CosineDecay(o, decay_steps=250),
               lambda t: LR * (0.5 * (1 + np.cos(np.pi * np.minimum(t, 250) / 250)))),
    "cosine-alpha": (lambda o: S.CosineDecay(o, 250, alpha=0.1),
                     lambda t: LR * (0.9 * 0.5 * (1 + np.cos(np.pi * np.minimum(t, 250) / 250)) + 0.1)),
    "linear-cosine": (lambda o: S.LinearCosineDecay(o, decay_steps=300),
                      lambda t: _linear_cosine(t, 300, 0.5, 0.0, 0.001)),
    "linear-cosine-periods": (lambda o: S.LinearCosineDecay(o, 300, num_periods=3.5, alpha=0.05, beta=0.01),
                              lambda t: _linear_cosine(t, 300, 3.5, 0.05, 0.01)),
    "piecewise": (lambda o: S.PiecewiseConstantDecay(o, boundaries=[100, 250], values=[0.1, 0.05, 0.001]),
                  lambda t: np.select([t <= 100, t <= 250], [0.1, 0.05], 0.001)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_decay_matches_tensorflow_formula(name):
    factory, formula = CASES[name]
    got = _rates(factory)
    np.testing.assert_allclose(got, formula(STEP), rtol=1e-13, atol=1e-16)
    assert len(np.unique(got)) > 2


def test_staircase_is_constant_within_a_period_and_cycle_restarts():
    rates = _rates(CASES["exponential-staircase"][0])
    assert np.all(rates[:30] == LR) and rates[30] == pytest.approx(LR * 0.7) and np.all(rates[30:60] == rates[30])
    cyc = _rates(CASES["polynomial-cycle"][0])
    assert cyc[70] == pytest.approx(0.001) and cyc[71] > cyc[70]  # at step 71 the horizon doubles to 140


def test_noisy_linear_cosine_decay():
    gk.manual_seed(7)
    got = _rates(lambda o: S.NoisyLinearCosineDecay(o, decay_steps=300, initial_variance=0.5, variance_decay=0.6))
    # the same draws, in the same order, from a generator seeded the same way
    rng = gk.Generator(7).numpy
    step = np.minimum(STEP, 300)
    noise = np.array([rng.normal(0.0, np.sqrt(0.5 / (1.0 + s) ** 0.6)) for s in step])
    np.testing.assert_allclose(got, _linear_cosine(STEP, 300, 0.5, 0.0, 0.001, noise), rtol=1e-12, atol=1e-15)
    clean = CASES["linear-cosine"][1](STEP)
    assert np.abs(got - clean).max() > 1e-4  # the noise is there


@pytest.mark.parametrize("name", ["exponential-staircase", "polynomial-cycle", "linear-cosine", "piecewise"])
def test_resume_is_exact(name):
    factory, _ = CASES[name]
    want = _rates(factory)
    opt = _optimizer()
    sched = factory(opt)
    for _ in range(111):
        opt.step()
        sched.step()
    state = sched.state_dict()
    new_opt = _optimizer()
    new_sched = factory(new_opt)
    new_sched.load_state_dict(state)
    rates = [new_sched.get_last_lr()[0]]
    for _ in range(STEPS - 111):
        new_opt.step()
        new_sched.step()
        rates.append(new_sched.get_last_lr()[0])
    assert rates == list(want[111:])


def test_initial_rate_is_the_optimizers_and_errors():
    opt = optim.SGD([{"params": [gk.zeros(2, requires_grad=True)], "lr": 0.3},
                     {"params": [gk.zeros(2, requires_grad=True)], "lr": 0.03}])
    sched = S.ExponentialDecay(opt, decay_steps=10, decay_rate=0.5)
    for _ in range(10):
        sched.step()
    assert sched.get_last_lr() == pytest.approx([0.15, 0.015])
    with pytest.raises(ValueError, match="decay_steps"):
        S.CosineDecay(_optimizer(), decay_steps=0)
    with pytest.raises(ValueError, match="one more value than boundaries"):
        S.PiecewiseConstantDecay(_optimizer(), [10, 20], [0.1, 0.01])
    with pytest.raises(ValueError, match="increasing"):
        S.PiecewiseConstantDecay(_optimizer(), [20, 10], [0.1, 0.01, 0.001])

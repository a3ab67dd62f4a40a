"""Optimizers against PyTorch's single-tensor implementations: trajectories, state dicts, resume, errors."""
import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import optim

STEPS = 30
SHAPES = [(5, 3), (7,)]

# (optimizer, options): every option of every optimizer, alone and combined.
CASES = [
    ("SGD", {}), ("SGD", dict(lr=0.05)), ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)), ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)), ("SGD", dict(lr=0.05, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True)),
    ("Adagrad", {}), ("Adagrad", dict(lr_decay=0.05)), ("Adagrad", dict(weight_decay=0.1)),
    ("Adagrad", dict(initial_accumulator_value=0.3)), ("Adagrad", dict(eps=1e-3)), ("Adagrad", dict(maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1, maximize=True)),
    ("RMSprop", {}), ("RMSprop", dict(alpha=0.9)), ("RMSprop", dict(eps=1e-3)), ("RMSprop", dict(weight_decay=0.1)),
    ("RMSprop", dict(momentum=0.9)), ("RMSprop", dict(centered=True)), ("RMSprop", dict(centered=True, momentum=0.5)),
    ("RMSprop", dict(maximize=True)), ("RMSprop", dict(alpha=0.3)),
    ("RMSprop", dict(alpha=0.8, centered=True, momentum=0.3, weight_decay=0.05, maximize=True)),
    ("Adam", {}), ("Adam", dict(lr=0.01, betas=(0.8, 0.99))), ("Adam", dict(betas=(0.3, 0.9))),
    ("Adam", dict(eps=1e-3)), ("Adam", dict(weight_decay=0.1)), ("Adam", dict(amsgrad=True)),
    ("Adam", dict(maximize=True)), ("Adam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.05, amsgrad=True, maximize=True)),
    ("AdamW", {}), ("AdamW", dict(lr=0.01, weight_decay=0.3)), ("AdamW", dict(amsgrad=True)),
    ("AdamW", dict(maximize=True, betas=(0.7, 0.95))),
    ("Adadelta", {}), ("Adadelta", dict(lr=0.5)), ("Adadelta", dict(rho=0.5)), ("Adadelta", dict(eps=1e-4)),
    ("Adadelta", dict(weight_decay=0.1)), ("Adadelta", dict(maximize=True)),
    ("NAdam", {}), ("NAdam", dict(betas=(0.8, 0.99))), ("NAdam", dict(eps=1e-4)), ("NAdam", dict(weight_decay=0.1)),
    ("NAdam", dict(momentum_decay=0.02)), ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(maximize=True)),
    ("RAdam", {}), ("RAdam", dict(betas=(0.8, 0.99))), ("RAdam", dict(eps=1e-4)), ("RAdam", dict(weight_decay=0.1)),
    ("RAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)), ("RAdam", dict(maximize=True)),
]


def _initial(dtype=np.float32):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _gradients(params, step, dtype=np.float32):
    """A deterministic, curved, noisy gradient of the current parameters (the same rule on both sides)."""
    rng = np.random.default_rng(100 + step)
    return [(np.tanh(p) * np.float32(1.5) + rng.standard_normal(p.shape).astype(dtype) * dtype(0.3)).astype(dtype)
            for p in params]


def _torch_optimizer(name, params, options):
    return getattr(torch.optim, name)(params, **options, foreach=False)


def run_torch(name, options, steps=STEPS, dtype=np.float32):
    params = [torch.tensor(a, requires_grad=True) for a in _initial(dtype)]
    opt = _torch_optimizer(name, params, options)
    for t in range(steps):
        for p, g in zip(params, _gradients([p.detach().numpy() for p in params], t, dtype)):
            p.grad = torch.tensor(g)
        opt.step()
    return [p.detach().numpy().copy() for p in params]


def run_gradkit(name, options, steps=STEPS, dtype=np.float32, params=None, opt=None, start=0):
    if params is None:
        params = [gk.tensor(a, requires_grad=True) for a in _initial(dtype)]
    opt = opt or getattr(optim, name)(params, **options)
    for t in range(start, start + steps):
        for p, g in zip(params, _gradients([p.data for p in params], t, dtype)):
            p.grad = gk.tensor(g)
        opt.step()
    return params, opt


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_trajectory_matches_pytorch(name, options):
    expected = run_torch(name, options)
    params, _ = run_gradkit(name, options)
    for got, want in zip(params, expected):
        assert got.data.dtype == np.float32
        np.testing.assert_allclose(got.data, want, rtol=2e-6, atol=2e-6)
    initial = _initial()
    assert any(not np.allclose(p.data, a) for p, a in zip(params, initial)), "the parameters did not move"


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_float64_trajectory_matches_pytorch(name, options):
    """In float64 the rounding differences (PyTorch fuses multiply-adds) vanish: any difference in the
    algorithm, down to the order of operations that matter, shows here."""
    expected = run_torch(name, options, dtype=np.float64)
    params, opt = run_gradkit(name, options, dtype=np.float64)
    for got, want in zip(params, expected):
        assert got.data.dtype == np.float64
        np.testing.assert_allclose(got.data, want, rtol=1e-11, atol=1e-12)
    for state in opt.state.values():
        for key, value in state.items():
            if key not in ("step", "mu_product"):
                assert value.dtype == np.float64


@pytest.mark.parametrize("name,options", CASES[::3], ids=[f"{n}-{o}" for n, o in CASES[::3]])
def test_resume_from_state_dict_is_exact(name, options):
    uninterrupted, _ = run_gradkit(name, options, steps=STEPS)
    params, opt = run_gradkit(name, options, steps=12)
    saved = opt.state_dict()
    saved_params = [p.data.copy() for p in params]
    run_gradkit(name, options, steps=5, params=params, opt=opt, start=12)  # must not change `saved`
    resumed = [gk.tensor(a, requires_grad=True) for a in saved_params]
    fresh = getattr(optim, name)(resumed, **options)
    fresh.load_state_dict(saved)
    run_gradkit(name, options, steps=STEPS - 12, params=resumed, opt=fresh, start=12)
    for got, want in zip(resumed, uninterrupted):
        np.testing.assert_array_equal(got.data, want.data)


@pytest.mark.parametrize("name,options", [("Adam", dict(amsgrad=True)), ("SGD", dict(lr=0.05, momentum=0.9)),
                                          ("NAdam", {}), ("Adagrad", dict(lr_decay=0.01)), ("RMSprop", dict(momentum=0.5))])
def test_pytorch_state_dict_loads_and_continues(name, options):
    """Stop a PyTorch run, load its state dict into gradkit, and continue both in step."""
    t_params = [torch.tensor(a, requires_grad=True) for a in _initial()]
    t_opt = _torch_optimizer(name, t_params, options)
    for t in range(10):
        for p, g in zip(t_params, _gradients([p.detach().numpy() for p in t_params], t)):
            p.grad = torch.tensor(g)
        t_opt.step()
    g_params = [gk.tensor(p.detach().numpy().copy(), requires_grad=True) for p in t_params]
    g_opt = getattr(optim, name)(g_params, **options)
    g_opt.load_state_dict(t_opt.state_dict())
    run_gradkit(name, options, steps=15, params=g_params, opt=g_opt, start=10)
    for t in range(10, 25):
        for p, g in zip(t_params, _gradients([p.detach().numpy() for p in t_params], t)):
            p.grad = torch.tensor(g)
        t_opt.step()
    for got, want in zip(g_params, t_params):
        np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=2e-6, atol=2e-6)


def test_state_dict_layout_matches_pytorch():
    t_params = [torch.tensor(a, requires_grad=True) for a in _initial()]
    g_params = [gk.tensor(a, requires_grad=True) for a in _initial()]
    t_opt = torch.optim.Adam([{"params": t_params[:1]}, {"params": t_params[1:], "lr": 0.1}], amsgrad=True)
    g_opt = optim.Adam([{"params": g_params[:1]}, {"params": g_params[1:], "lr": 0.1}], amsgrad=True)
    for p, g in zip(t_params, _gradients([p.detach().numpy() for p in t_params], 0)):
        p.grad = torch.tensor(g)
    for p, g in zip(g_params, _gradients([p.data for p in g_params], 0)):
        p.grad = gk.tensor(g)
    t_opt.step()
    g_opt.step()
    t_sd, g_sd = t_opt.state_dict(), g_opt.state_dict()
    assert list(g_sd) == ["state", "param_groups"]
    assert g_sd["state"].keys() == t_sd["state"].keys() == {0, 1}
    for index in t_sd["state"]:
        assert list(g_sd["state"][index]) == list(t_sd["state"][index])
        for key, value in t_sd["state"][index].items():
            assert g_sd["state"][index][key].dtype == value.numpy().dtype
            np.testing.assert_allclose(g_sd["state"][index][key].data, value.numpy(), rtol=1e-6)
    assert [g["params"] for g in g_sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in g_sd["param_groups"]] == [0.001, 0.1]
    for g_group, t_group in zip(g_sd["param_groups"], t_sd["param_groups"]):
        assert set(g_group) <= set(t_group)


def test_param_groups_take_their_own_options():
    """Each group is updated with its own lr and momentum, like PyTorch's."""
    options = [dict(lr=0.1, momentum=0.9), dict(lr=0.01)]
    t_params = [torch.tensor(a, requires_grad=True) for a in _initial()]
    g_params = [gk.tensor(a, requires_grad=True) for a in _initial()]
    t_opt = torch.optim.SGD([dict(params=[p], **o) for p, o in zip(t_params, options)], lr=0.5, foreach=False)
    g_opt = optim.SGD([dict(params=[p], **o) for p, o in zip(g_params, options)], lr=0.5)
    assert g_opt.param_groups[1]["momentum"] == 0 and g_opt.param_groups[0]["momentum"] == 0.9
    for t in range(STEPS):
        for p, g in zip(t_params, _gradients([p.detach().numpy() for p in t_params], t)):
            p.grad = torch.tensor(g)
        for p, g in zip(g_params, _gradients([p.data for p in g_params], t)):
            p.grad = gk.tensor(g)
        t_opt.step()
        g_opt.step()
    for got, want in zip(g_params, t_params):
        np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=2e-6, atol=2e-6)


def test_add_param_group_after_construction():
    a, b = (gk.tensor(x, requires_grad=True) for x in _initial())
    opt = optim.Adagrad([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert opt.param_groups[1]["lr"] == 0.2 and opt.param_groups[1]["lr_decay"] == 0
    a.grad, b.grad = gk.ones(*a.shape), gk.ones(*b.shape)
    before = b.data.copy()
    opt.step()
    np.testing.assert_allclose(b.data, before - 0.2, rtol=1e-6)  # Adagrad's first step is lr * sign(grad)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_closure_and_training_with_autograd():
    """A real loss through gradkit's autograd: the closure re-evaluates it, step returns it, and the
    trajectory equals PyTorch's."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32)
    w0 = rng.standard_normal((3, 1)).astype(np.float32)

    w_t = torch.tensor(w0, requires_grad=True)
    opt_t = torch.optim.SGD([w_t], lr=0.1, momentum=0.9, foreach=False)
    w_g = gk.tensor(w0, requires_grad=True)
    opt_g = optim.SGD([w_g], lr=0.1, momentum=0.9)

    def closure_t():
        opt_t.zero_grad()
        loss = ((torch.tensor(x) @ w_t - torch.tensor(y)) ** 2).mean()
        loss.backward()
        return loss

    def closure_g():
        opt_g.zero_grad()
        loss = ((gk.tensor(x) @ w_g - gk.tensor(y)) ** 2).mean()
        loss.backward()
        return loss

    losses = []
    with gk.no_grad():  # the closure turns recording back on
        for _ in range(STEPS):
            loss_g = opt_g.step(closure_g)
            loss_t = opt_t.step(closure_t)
            np.testing.assert_allclose(loss_g.item(), loss_t.item(), rtol=1e-5)
            losses.append(loss_g.item())
    np.testing.assert_allclose(w_g.data, w_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert losses[-1] < losses[0]


def test_zero_grad_and_parameters_without_gradient():
    a, b = (gk.tensor(x, requires_grad=True) for x in _initial())
    opt = optim.Adam([a, b])
    a.grad = gk.ones(*a.shape)
    before = b.data.copy()
    opt.step()
    np.testing.assert_array_equal(b.data, before)  # no gradient, no update, no state
    assert b not in opt.state and a in opt.state
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and not a.grad.data.any()
    opt.zero_grad()
    assert a.grad is None


def test_frozen_parameters_are_accepted_and_left_alone():
    """As in PyTorch, a parameter with requires_grad=False may be passed (model.parameters() with frozen
    layers); it never has a gradient, so it is never updated."""
    frozen = gk.tensor(_initial()[0])
    live = gk.tensor(_initial()[1], requires_grad=True)
    opt = optim.SGD([frozen, live], lr=0.1)
    live.grad = gk.ones(*live.shape)
    opt.step()
    np.testing.assert_array_equal(frozen.data, _initial()[0])


@pytest.mark.parametrize("build,message", [
    (lambda p: optim.SGD(p, lr=-0.1), "SGD: invalid learning rate lr=-0.1"),
    (lambda p: optim.SGD(p, momentum=-0.5), "momentum=-0.5"),
    (lambda p: optim.SGD(p, weight_decay=-1), "weight_decay=-1"),
    (lambda p: optim.SGD(p, nesterov=True), "nesterov"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
    (lambda p: optim.Adam(p, lr=-1e-3), "Adam: invalid learning rate lr=-0.001"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas\[0\]=1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"betas\[1\]=-0.1"),
    (lambda p: optim.Adam(p, eps=-1), "eps=-1"),
    (lambda p: optim.AdamW(p, weight_decay=-0.1), "AdamW: invalid weight_decay=-0.1"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "lr_decay=-1"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value=-1"),
    (lambda p: optim.RMSprop(p, alpha=-0.1), "alpha=-0.1"),
    (lambda p: optim.RMSprop(p, momentum=-0.1), "momentum=-0.1"),
    (lambda p: optim.Adadelta(p, rho=1.5), "rho=1.5"),
    (lambda p: optim.NAdam(p, momentum_decay=-1), "momentum_decay=-1"),
    (lambda p: optim.RAdam(p, betas=(0.9, 1.0)), r"betas\[1\]=1.0"),
])
def test_invalid_hyperparameters_raise_at_construction(build, message):
    with pytest.raises(ValueError, match=message):
        build([gk.tensor(_initial()[1], requires_grad=True)])


def test_invalid_parameters():
    w = gk.tensor(_initial()[1], requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="set"):
        optim.SGD([{"params": {w}}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.zeros(3)], lr=0.1)


def test_load_state_dict_checks_the_groups():
    a, b = (gk.tensor(x, requires_grad=True) for x in _initial())
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 0 has 2 parameters"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)


def test_named_parameters_are_accepted():
    a, b = (gk.tensor(x, requires_grad=True) for x in _initial())
    opt = optim.SGD([("a", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["a", "b"]
    assert opt.param_groups[0]["params"][0] is a


def test_example_batch_gd_and_sgd_both_fit():
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parents[2] / "examples" / "optimizers_bgd_vs_sgd.py"
    spec = importlib.util.spec_from_file_location("optimizers_bgd_vs_sgd", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    histories = example.main(epochs=15)
    gd, sgd = histories.values()
    assert gd[-1] < 0.05 and sgd[-1] < 0.01
    assert sgd[0] < gd[0]  # many small steps per epoch beat one exact step per epoch at the start

"""A small CNN with BatchNorm trained for 40 steps with SGD + momentum + StepLR follows PyTorch's loss
trajectory and ends with PyTorch's weights and running statistics."""
import numpy as np
import torch

import gradkit as gk


def build(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.0), nn.Linear(16, 5))


def test_cnn_with_batchnorm_follows_pytorch_for_40_steps():
    torch.manual_seed(0)
    theirs = build(torch)
    ours = build(gk)
    ours.load_state_dict(theirs.state_dict())
    t_opt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    g_opt = gk.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    t_sched = torch.optim.lr_scheduler.StepLR(t_opt, step_size=10, gamma=0.5)
    g_sched = gk.optim.lr_scheduler.StepLR(g_opt, step_size=10, gamma=0.5)
    rng = np.random.default_rng(0)
    data = rng.standard_normal((40, 12, 3, 9, 11)).astype(np.float32)
    # Learnable labels: the quintile of each image's mean brightness of channel 0.
    brightness = data[:, :, 0].mean(axis=(2, 3))
    labels = np.digitize(brightness, np.quantile(brightness, [0.2, 0.4, 0.6, 0.8]))
    t_losses, g_losses = [], []
    for x, y in zip(data, labels):
        t_loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        t_opt.zero_grad()
        t_loss.backward()
        t_opt.step()
        t_sched.step()
        g_loss = gk.nn.functional.cross_entropy(ours(gk.tensor(x)), gk.tensor(y))
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        g_sched.step()
        t_losses.append(t_loss.item())
        g_losses.append(g_loss.item())
    np.testing.assert_allclose(g_losses, t_losses, rtol=2e-4, atol=1e-5)
    assert np.mean(g_losses[-5:]) < np.mean(g_losses[:5])
    assert g_sched.get_last_lr() == t_sched.get_last_lr()
    expected = theirs.state_dict()
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(value.numpy(), expected[key].numpy(), rtol=1e-3, atol=1e-5, err_msg=key)

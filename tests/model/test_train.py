"""Gradient descent (lstm_viz.model.train): against PyTorch's SGD, and first-order theory."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_viz.model import ModelInputError, Network, Options, init_params
from lstm_viz.model.demo import demo_inputs, demo_network
from lstm_viz.model.train import descend

T, D, H = 7, 3, 4


def _problem(kind="lstm", seed=3, **options):
    rng = np.random.default_rng(seed)
    net = Network(init_params(kind, D, H, seed=seed), 0.3 * rng.standard_normal(H),
                  rng.standard_normal(H) if kind == "lstm" else None, Options(**options))
    return net, rng.standard_normal((T, D)), 0.5 * rng.standard_normal(H)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_small_steps_lower_the_loss_by_rate_times_gradient_squared(kind):
    # first order: L(w - lr g) = L(w) - lr ||g||^2 + O(lr^2), so the ratio -> 1 as lr -> 0
    net, x, y = _problem(kind)
    g2 = net.trace(x, target=y).grad_norm ** 2
    ratios = []
    for lr in (1e-3, 1e-4, 1e-5):
        run = descend(net, x, y, lr, 1)
        ratios.append((run.losses[0] - run.losses[1]) / (lr * g2))
    assert abs(ratios[-1] - 1) < 1e-3
    assert abs(ratios[-1] - 1) < abs(ratios[0] - 1) or abs(ratios[0] - 1) < 1e-6


def test_many_steps_fit_the_target_and_keep_the_initial_states():
    net, x, y = _problem()
    run = descend(net, x, y, 0.5, 300)
    assert run.steps == 300 and not run.stopped
    assert run.losses[-1] < 0.05 * run.losses[0]
    assert np.all(np.diff(run.losses) <= 1e-12)            # a small rate: it only goes down
    np.testing.assert_array_equal(run.network.h0, net.h0)
    np.testing.assert_array_equal(run.network.c0, net.c0)
    assert run.network.options == net.options
    assert run.losses[-1] == pytest.approx(run.network.trace(x, target=y).loss, abs=0)


def test_clipping_caps_the_length_of_each_step():
    net, x, y = _problem(clip_norm=0.05)
    full = net.trace(x, target=y).grad_norm
    assert full > 0.05
    lr = 0.2
    run = descend(net, x, y, lr, 1)
    before = net.params.to_state_dict()
    after = run.network.params.to_state_dict()
    moved = np.sqrt(sum(np.sum((after[k] - before[k]) ** 2) for k in before))
    assert moved == pytest.approx(lr * 0.05, rel=1e-12)
    assert run.clipped == 1 and run.grad_norms[0] == pytest.approx(full)


def test_each_step_follows_the_networks_own_truncated_gradient():
    # the options travel with the network: truncated BPTT changes the step taken
    net, x, y = _problem(truncate=2)
    full = Network(net.params, net.h0, net.c0, Options())
    lr = 0.1
    cut = descend(net, x, y, lr, 1).network.params.to_state_dict()
    whole = descend(full, x, y, lr, 1).network.params.to_state_dict()
    grads = net.trace(x, target=y).grads
    for k, w in net.params.to_state_dict().items():
        np.testing.assert_allclose(cut[k], w - lr * grads[k], rtol=0, atol=1e-15)
    assert not np.allclose(cut["weight_hh_l0"], whole["weight_hh_l0"], rtol=0, atol=1e-9)


def test_the_readout_is_trained_with_the_cross_entropy():
    rng = np.random.default_rng(1)
    p = init_params("lstm", D, H, seed=1).replace(readout_weight=rng.standard_normal((3, H)),
                                                     readout_bias=np.zeros(3))
    net = Network(p, options=Options(loss_class=2))
    x = rng.standard_normal((T, D))
    run = descend(net, x, None, 0.5, 50)
    assert run.losses[-1] < run.losses[0]
    assert not np.array_equal(run.network.params.readout_weight, p.readout_weight)
    probs = run.network.trace(x).readout_probs
    assert probs[2] > net.trace(x).readout_probs[2]


@pytest.mark.parametrize("steps", [1, 5])
def test_a_step_that_blows_up_is_taken_back_and_said(steps):
    # (the last step of a run is checked too: with 1 step it once went through unchecked)
    net, x, y = _problem(forget_activation="relu")
    run = descend(net, x, y, 1e300, steps)                 # far too large a rate
    assert run.steps == 0 and "taken back" in run.stopped
    assert run.network is net and len(run.losses) == 1 and np.isfinite(run.losses[0])


def test_a_model_that_has_already_blown_up_is_left_as_it_is():
    net, x, y = _problem(forget_activation="relu")
    b = net.params.bias_ih.copy()
    b[net.params.gate_rows("f")] = 1e300                    # f = 1e300: C overflows
    broken = net.with_(params=net.params.replace(bias_ih=b))
    run = descend(broken, x, y, 0.1, 3)
    assert run.steps == 0 and "already" in run.stopped and run.network is broken


def test_a_time_limit_stops_between_steps_and_says_so():
    net, x, y = _problem()
    run = descend(net, x, y, 0.1, 50, time_limit=0.0)      # at least one step is taken
    assert run.steps == 1 and "stopped after 1 of 50 steps" in run.stopped
    assert len(run.losses) == 2
    assert run.losses[1] == pytest.approx(run.network.trace(x, target=y).loss, abs=0)


def test_bad_rates_and_counts_are_refused():
    net, x, y = _problem()
    for lr in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ModelInputError, match="learning rate"):
            descend(net, x, y, lr)
    with pytest.raises(ModelInputError, match="steps"):
        descend(net, x, y, 0.1, 0)


def test_the_demo_can_be_trained_towards_another_target():
    net = demo_network()
    x = demo_inputs()
    run = descend(net, x, np.full(net.hidden_size, 0.5), 0.3, 20)
    assert run.steps == 20 and run.losses[-1] < run.losses[0]


@pytest.mark.torch
@pytest.mark.parametrize("clip", [None, 0.1])
def test_matches_torch_sgd_step_for_step(clip):
    torch = pytest.importorskip("torch")
    net, x, y = _problem(clip_norm=clip, loss_step=4)
    sd = net.params.to_state_dict()
    mod = torch.nn.LSTM(D, H).double()
    mod.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    opt = torch.optim.SGD(mod.parameters(), lr=0.3)
    h0 = torch.tensor(net.h0)[None, None, :]
    c0 = torch.tensor(net.c0)[None, None, :]
    xt = torch.tensor(x)[:, None, :]
    losses = []
    for _ in range(5):
        opt.zero_grad()
        out, _ = mod(xt, (h0, c0))
        loss = 0.5 * ((out[4, 0] - torch.tensor(y)) ** 2).sum()
        loss.backward()
        if clip is not None:
            # clip_grad_norm_ divides by (norm + 1e-6); the engine rescales to the norm
            # exactly, so the clipping is done here by its definition
            norm = torch.sqrt(sum((p.grad ** 2).sum() for p in mod.parameters()))
            if norm > clip:
                for p in mod.parameters():
                    p.grad *= clip / norm
        opt.step()
        losses.append(loss.item())
    run = descend(net, x, y, 0.3, 5)
    np.testing.assert_allclose(run.losses[:5], losses, rtol=1e-11, atol=1e-13)
    got = run.network.params.to_state_dict()
    for k, v in mod.state_dict().items():
        np.testing.assert_allclose(got[k], v.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)

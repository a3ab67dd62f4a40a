"""Fit a linear model by gradient descent with gradkit's autograd: the smallest end-to-end training run.

    python examples/linear_regression.py
"""
import gradkit as gk


def main(steps=200, lr=0.1):
    gk.manual_seed(0)
    true_w, true_b = gk.tensor([[2.0], [-3.4], [1.5]]), 4.2
    x = gk.randn(256, 3)
    y = x @ true_w + true_b + 0.01 * gk.randn(256, 1)

    w = gk.zeros(3, 1, requires_grad=True)
    b = gk.zeros(1, requires_grad=True)
    for step in range(steps):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with gk.no_grad():
            w.sub_(lr * w.grad)
            b.sub_(lr * b.grad)
        w.grad, b.grad = None, None
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:3d}  loss {loss.item():.6f}")
    print("learned w", [round(v, 3) for v in w.detach().numpy().ravel().tolist()], "b", round(b.item(), 3))
    return loss.item()


if __name__ == "__main__":
    main()

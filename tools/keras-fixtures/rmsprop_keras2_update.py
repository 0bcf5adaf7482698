"""Expected kernels for RMSprop's Keras 2 update (test Training/Optimizers/RMSpropTests, Saving/RmspropVersionTests).

The problem of test/.../Training/Optimizers/OptimizerProblem.cs: Dense(1, use_bias=False) with kernel [0.5, 0.25],
x = [1, 2], y = 0, loss mse, so the gradient is 2 z x with z = w . x. Three steps, in float64, of:
  Keras 2.2 keras/optimizers.py RMSprop.get_updates and tf.keras 2.10 optimizer_v2/rmsprop.py _resource_apply_dense
  without momentum:   a = rho a + (1 - rho) g^2;  p -= lr g / (sqrt(a) + eps)
  (centered, tf.keras 2.10 only: mg = rho mg + (1 - rho) g;  p -= lr g / (sqrt(a - mg^2) + eps))
  Keras 3 keras/src/optimizers/rmsprop.py: p -= lr g / sqrt(a + eps)   (centered: sqrt(a - mg^2 + eps))
Run: python3 rmsprop_keras2_update.py  (numpy only); prints the lists pasted into the tests.
"""
import numpy as np

X = np.array([1.0, 2.0])


def run(lr, rho, eps, keras2, centered=False, steps=3):
    w = np.array([0.5, 0.25])
    a = np.zeros(2)
    mg = np.zeros(2)
    out = []
    for _ in range(steps):
        g = 2 * (w @ X) * X
        a = rho * a + (1 - rho) * g * g
        moment = a
        if centered:
            mg = rho * mg + (1 - rho) * g
            moment = a - mg * mg
        w = w - lr * g / ((np.sqrt(moment) + eps) if keras2 else np.sqrt(moment + eps))
        out.append(w.copy())
    return out


for name, kwargs in [
    ("keras2 lr=0.01 rho=0.8 eps=0.5", dict(lr=0.01, rho=0.8, eps=0.5, keras2=True)),
    ("keras3 lr=0.01 rho=0.8 eps=0.5", dict(lr=0.01, rho=0.8, eps=0.5, keras2=False)),
    ("keras2 centered lr=0.01 rho=0.8 eps=0.5", dict(lr=0.01, rho=0.8, eps=0.5, keras2=True, centered=True)),
    ("keras3 centered lr=0.01 rho=0.8 eps=0.5", dict(lr=0.01, rho=0.8, eps=0.5, keras2=False, centered=True)),
]:
    print(name)
    for step, w in enumerate(run(**kwargs), 1):
        print(f"  step {step}: {{ {w[0]:.10f}, {w[1]:.10f} }}")

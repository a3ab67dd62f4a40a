"""DataLoader throughput with CIFAR-style augmentation (RandomCrop(32, padding=4), RandomHorizontalFlip,
Normalize) on synthetic 3x32x32 images, batch 64, with 0, 1 and 2 worker processes.

The same dataset and transforms go through gradkit's DataLoader and through PyTorch's, so the ratio
compares the loading machinery (sampling, workers, collation), not the augmentation code. Workers are
persistent: the numbers are steady-state epochs, without process start-up.
"""
import numpy as np

from bench.common import interleaved, row

IMAGES = 2048
BATCH = 64
WORKERS = (0, 1, 2)


class SyntheticImages:
    """Random float32 CHW images and labels, augmented per sample like a CIFAR training set."""

    def __init__(self, n=IMAGES):
        from gradkit.data import transforms as T
        rng = np.random.default_rng(0)
        self.images = rng.random((n, 3, 32, 32), dtype=np.float32)
        self.labels = rng.integers(0, 10, n)
        self.transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                                    T.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), int(self.labels[i])


def _epoch(loader):
    def run():
        for _ in loader:
            pass
    return run


def run(rounds=10):
    import torch
    import torch.utils.data

    import gradkit as gk
    from gradkit.data import DataLoader

    dataset = SyntheticImages()
    rows = []
    rounds = max(3, rounds // 2)  # one call is a whole epoch of 32 batches
    for workers in WORKERS:
        extra = {"persistent_workers": True} if workers else {}
        cases = {"gradkit": _epoch(DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers,
                                              generator=gk.Generator(0), **extra)),
                 "torch": _epoch(torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True,
                                                             num_workers=workers, **extra))}
        medians = interleaved(cases, rounds=rounds, warmup=1, block=1)
        result = row(f"data_loader crop+flip+normalize 3x32x32 b{BATCH} workers={workers}", medians)
        result["gradkit_images_per_s"] = round(IMAGES / medians["gradkit"])
        result["torch_images_per_s"] = round(IMAGES / medians["torch"])
        rows.append(result)
    return rows


if __name__ == "__main__":
    from bench.common import print_table, setup_threads
    setup_threads()
    print_table(run(rounds=15))

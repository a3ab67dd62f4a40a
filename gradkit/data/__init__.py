"""Data loading: datasets, samplers, the DataLoader, splits, transforms and bundled/file datasets.

Mirrors ``torch.utils.data`` (and torchvision's transforms and datasets) in names and semantics.
"""
from gradkit.data.collate import default_collate, default_convert
from gradkit.data.dataloader import DataLoader
from gradkit.data.dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset
from gradkit.data.sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                                  SubsetRandomSampler, WeightedRandomSampler)
from gradkit.data.split import random_split, stratified_split
from gradkit.data.worker import WorkerInfo, get_worker_info
from gradkit.data import datasets, transforms

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset", "DataLoader",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler", "DistributedSampler", "random_split", "stratified_split", "default_collate",
           "default_convert", "get_worker_info", "WorkerInfo", "datasets", "transforms"]

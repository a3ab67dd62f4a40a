"""Datasets read from local files or from installed packages; nothing is downloaded."""
from gradkit.data.datasets.cifar import CIFAR10, CIFAR100
from gradkit.data.datasets.csv_dataset import CSVDataset
from gradkit.data.datasets.digits import Digits
from gradkit.data.datasets.image_folder import ImageFolder
from gradkit.data.datasets.mnist import MNIST, FashionMNIST

__all__ = ["Digits", "MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageFolder", "CSVDataset"]

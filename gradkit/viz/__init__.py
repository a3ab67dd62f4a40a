"""Plots, written to PNG files with matplotlib's headless backend (an optional dependency)."""
from gradkit.viz.activations import plot_activations
from gradkit.viz.schedule import plot_schedule, schedule_values
from gradkit.viz.training import plot_gradient_flow, plot_history, plot_learning_rates

__all__ = ["plot_activations", "plot_history", "plot_learning_rates", "plot_gradient_flow", "plot_schedule",
           "schedule_values"]

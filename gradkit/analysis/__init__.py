"""Model analysis: summary tables (shapes, parameters, MACs/FLOPs) and receptive fields."""
from gradkit.analysis.receptive_field import LayerField, receptive_field
from gradkit.analysis.summary import ModelSummary, count_parameters, summary

__all__ = ["summary", "count_parameters", "ModelSummary", "receptive_field", "LayerField"]

"""(family under construction)"""
__all__ = []
TENSOR_METHODS = ()

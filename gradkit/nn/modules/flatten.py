"""(layers under construction)"""
__all__ = []

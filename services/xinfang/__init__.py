"""xinfang — 信访事项跨层级流转系统 (event-driven multi-level petition case transfer)."""

__version__ = "0.1.0"

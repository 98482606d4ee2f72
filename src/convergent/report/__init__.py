"""The report: Markdown (zh/en, Mermaid), the HTML dashboard, figures and data files."""

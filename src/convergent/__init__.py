"""convergent: measure, classify and forecast how AI technologies converge."""

__version__ = "0.1.0"

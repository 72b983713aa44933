"""An evidence-synthesis knowledge base: recommendations, the studies behind them, and how
strong that evidence is."""

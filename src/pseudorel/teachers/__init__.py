"""Teachers: score (query, document) pairs and turn scores into probabilities."""

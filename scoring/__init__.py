"""Pure scoring: questionnaires, survey designs, weights, satisfaction indices."""

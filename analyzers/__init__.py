"""Pure static analysis of ML scripts, projects and notebooks: source in, typed findings with evidence out."""

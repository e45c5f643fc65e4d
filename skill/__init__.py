"""Pure planning and generation: analysis + account facts in, a JobPlan and the code that submits it out."""

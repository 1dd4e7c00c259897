"""Human decisions inside a run: pause points, answers, and who decides what when a step goes wrong.

`markers` reads a pause request (from the agent's reply or a plan step's marker), `record` keeps
decisions in progress.yaml and puts answers into prompts, `provider` is the small interface the
executor consults (autonomous by default; `interactive` asks at a terminal).
"""

"""The run stage: the job plan, jobs, executors (local, Ray), evaluate, progress, and `privbench check`.
"""

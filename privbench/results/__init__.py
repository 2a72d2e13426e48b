"""The results stage: the paper's tables, the findings, reports, the leaderboard site and its checks,
and `privbench reproduce`.
"""

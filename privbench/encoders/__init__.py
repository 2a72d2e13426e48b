"""The encoder stage: the submission interface, building blocks, the compiled GRU, the training
recipe, the paper's network, the anonymiser and submission folders.
"""

"""The course's graded exercises, one module per exercise (``EXERCISE = Exercise(...)``).

Each module is named like its notebooks (``solutions/<id>.ipynb``) and is
discovered by :func:`virtlab.grading.exercise.exercises`.
"""

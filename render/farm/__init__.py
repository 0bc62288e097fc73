"""The render farm: one job split into chunks at keyframes, rendered in parallel, joined by remuxing.

Modules, bottom up:

- :mod:`render.farm.chunks`: where to cut (keyframes, chunk count or length);
- :mod:`render.farm.job_dir`: the job directory and its JSON manifest (plan and chunk states);
- :mod:`render.farm.analysis`: the mood analysis as Ray tasks (picture ranges, the sound beside them);
- :mod:`render.farm.grade_plan`: the grade, decided once (mood analysis, recipe, soundtrack);
- :mod:`render.farm.plan`: plan a job (``moodgrade farm plan``);
- :mod:`render.farm.chunk_render`: render one chunk (``moodgrade render-chunk``);
- :mod:`render.farm.join`: join the chunks without re-encoding (``moodgrade join``);
- :mod:`render.farm.ray_cluster`: reach Ray (token, address check, a local instance on loopback);
- :mod:`render.farm.ray_driver`: run a whole job on Ray (``moodgrade farm render``).

Ray is optional (the ``farm`` extra) and imported only by the driver.
"""

"""The knowledge base's history, read from its git repository: what each commit changed, as
``kb diff`` would say it, dated; each recommendation's headline level and evidence links
over time; and the version of the content the site and the downloads state.

Takes: the knowledge base's folder, inside a git repository with its full history (a
shallow clone, a folder outside git, or no git at all give ``History.unavailable``, a reason,
never a made-up history).
Gives: ``History`` (``log.read_history``), a ``ContentVersion`` (``version.content_version``)
and each recommendation's ``Timeline`` (``timelines.recommendation_timelines``); versions to
compare (``revisions``), what changed between two (``diff``, laid out by ``diff_report``), and
the content releases (``release``).

- ``repository``: the only module here that runs git: commits, changed files, blobs.
- ``documents``: record files at a commit → export-like documents ``kb.history.diff`` compares.
- ``log``: each commit's changes, worked out once and cached per commit under the build
  folder, so a build reads only the commits that are new since the last one.
- ``timelines``: each recommendation's dated history, from the commits' changes.
- ``version``: the content version: the latest release, and whether records changed since.

- ``revisions``: git revisions, the working tree or export files, as versions to compare.
- ``diff`` and ``diff_report``: what changed between two versions, in words.
- ``release``: the content releases (``kb-release.yaml``) and the next one.

May import: the shared modules, ``kb.records``, ``kb.localization``, ``kb.references``,
``kb.store``, ``kb.graph`` and ``kb.search``; never the pages, the site or the CLI.
"""

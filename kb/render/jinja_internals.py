"""The one use of Jinja's private API in the project, fenced here with what it buys.

Every ``{{ value }}`` of our templates is passed through ``finalize`` (``kb.render.pages``),
which always returns ``Markup``; with autoescape on, Jinja then wraps the result in
``escape()``, which only copies a ``Markup``. ``FinalizedOutput`` compiles ``{{ value }}`` to
``finalize(value)`` alone by overriding a private method of Jinja's code generator
(``CodeGenerator._output_child_pre``). Measured gain: docs/performance.md, "Private APIs";
``tests/test_private_api.py`` pins that templates render the same with and without it.
"""

from typing import Any

from jinja2.compiler import CodeGenerator


class FinalizedOutput(CodeGenerator):
    """Jinja's code generator, printing ``finalize(value)`` where it prints
    ``escape(finalize(value))``: for an environment whose ``finalize`` always gives
    ``Markup``, which ``escape`` only copies."""

    def _output_child_pre(self, node: Any, frame: Any, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile and finalize.src:
            self.write(f"({finalize.src}")
        else:
            super()._output_child_pre(node, frame, finalize)

"""Text as strings: cleaning untrusted post text, Markdown escaping, language, length.

:mod:`.safetext` is the one place control and escape characters are stripped from what
strangers post; :mod:`.mdtext` escapes text for Markdown handovers; :mod:`.lang` guesses
English or Dutch and stems words; :mod:`.textlength` counts a reply the way each platform
does.  Leaves: nothing here imports the rest of the core.
"""

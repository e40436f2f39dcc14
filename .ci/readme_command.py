"""Print one of the README's two set-up commands, so CI runs exactly what the README says.

python3 .ci/readme_command.py serve   # the first shell block under "## Set up"
python3 .ci/readme_command.py test    # the second
"""

import re
import sys
from pathlib import Path

text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
section = text.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
commands = re.findall(r"```sh\n(.*?)\n```", section, re.S)
which = {"serve": 0, "test": 1}[sys.argv[1]]
print(commands[which].strip())

"""Extension objects, made once and bound to the app by ``Config.EXTENSIONS``."""

from dyne.ext.db.alchemical import Alchemical

db = Alchemical()

<%!
import re

%>"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade(engine_name: str = "") -> None:
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str = "") -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    """A database added after this revision: nothing to do there."""

<%
    db_names = config.get_main_option("databases") or ""
%>
## One upgrade_<name>() / downgrade_<name>() pair per database; "" is the default one.
% for db_name in re.split(r',\s*', db_names):

def upgrade_${db_name}() -> None:
    ${context.get("%s_upgrades" % db_name, "pass")}


def downgrade_${db_name}() -> None:
    ${context.get("%s_downgrades" % db_name, "pass")}

% endfor

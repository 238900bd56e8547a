"""A team member's roles (OCS's groups) and the role permissions each grants: API keys and authorization-code
tokens act as a user with roles, and every side checks them the same way."""

# Role permissions, named after what they allow (OCS checks the Django model permissions behind them).
VIEW_CHATBOTS = "view_chatbots"
VIEW_SESSIONS, ADD_SESSIONS, CHANGE_SESSIONS, DELETE_SESSIONS = (
    "view_sessions",
    "add_sessions",
    "change_sessions",
    "delete_sessions",
)
VIEW_PARTICIPANTS, CHANGE_PARTICIPANTS = "view_participants", "change_participants"
VIEW_FILES = "view_files"
TRIGGER_BOT = "trigger_bot"
ALL_PERMISSIONS = frozenset(
    {
        VIEW_CHATBOTS,
        VIEW_SESSIONS,
        ADD_SESSIONS,
        CHANGE_SESSIONS,
        DELETE_SESSIONS,
        VIEW_PARTICIPANTS,
        CHANGE_PARTICIPANTS,
        VIEW_FILES,
        TRIGGER_BOT,
    }
)

# OCS's groups, with what each may do through API v1 (from OCS's own group definitions: the chatbot admin
# owns the `experiments` app, files belong to assistant admins, chat viewers see sessions and files).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "Super Admin": ALL_PERMISSIONS,
    "Team Admin": frozenset(),
    "Chatbot Admin": ALL_PERMISSIONS - {VIEW_FILES},
    "Event Admin": frozenset(),
    "Assistant Admin": frozenset({VIEW_FILES}),
    "Chat Viewer": frozenset({VIEW_SESSIONS, VIEW_FILES}),
    "Evaluation Admin": frozenset(),
    "Annotation Reviewer": frozenset({VIEW_SESSIONS}),
}
ROLES = tuple(ROLE_PERMISSIONS)
DEFAULT_ROLE = "Super Admin"


def permissions_of(roles) -> frozenset[str]:
    return frozenset().union(*(ROLE_PERMISSIONS.get(role, frozenset()) for role in roles))

"""The config `refbot init` writes: the embedded default, with no server to install
(SQLite, mail delivered straight to refbot's own SMTP port, outgoing mail into a maildir)."""

CONFIG = '''\
# refbot config: see config.example.toml in the refbot repository for every key.
# Relative paths are relative to this file's folder.

[bot]
name = "Referrals"
timezone = "Europe/Berlin"
secret_env = "REFBOT_SECRET"      # if that variable is unset, a secret is kept in ./secret

[database]
url = "sqlite:///var/refbot.db"

[smtp]
transport = "maildir"             # outgoing mail is written to var/sent; use "smtp" for real mail
maildir = "var/sent"
from_address = "referrals@example.com"
reply_address = "referrals+{token}@example.com"

[inbound]
transport = "smtp"                # replies are delivered straight to refbot on this address
listen_host = "127.0.0.1"
listen_port = 2525

[customer_notices]
enabled = true
find_partner_url = "https://example.com/find-a-partner"

[matching]
max_partners = 3

[[partners]]
id = "contoso"
name = "Contoso Ltd"

  [[partners.profiles]]
  region = "DE"
  locations = ["Berlin", "Munich"]
  contact = "leads-de@contoso.example"
  team = ["anna@contoso.example"]
  locale = "de"
  currency = "EUR"
  keywords = ["azure", "migration"]
  company_sizes = ["small", "medium"]
'''

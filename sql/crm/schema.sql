-- The sample CRM used by `demo`, the tests and the benchmarks: an agency's customers, their
-- policies and a side table of extra phones. Not part of carecycle-sync's own state.
CREATE TABLE IF NOT EXISTS customers (
  id           bigserial PRIMARY KEY,
  first_name   text,
  last_name    text,
  phone        text,
  email        text,
  zip          text,
  birth_date   date,
  sex          text,
  dnc_flag     text NOT NULL DEFAULT 'N',
  lead_source  text,
  notes        text,
  deleted_at   timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS policies (
  id                 bigserial PRIMARY KEY,
  customer_id        bigint NOT NULL,
  hs_policy_id       text,
  carrier_policy_id  text,
  status             text NOT NULL DEFAULT 'active',
  effective_date     date,
  premium            numeric(10,2),
  line_of_business   text NOT NULL DEFAULT 'ACA',
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS policies_customer ON policies (customer_id);

CREATE TABLE IF NOT EXISTS customer_phones (
  id           bigserial PRIMARY KEY,
  customer_id  bigint NOT NULL,
  phone        text NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_phones_customer ON customer_phones (customer_id);

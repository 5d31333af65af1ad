-- Sample data for the CRM of sql/crm/schema.sql. Run with the psql-style variable
-- replaced by the caller: :customers (number of customers). Every customer gets 1–3 ACA
-- policies; deterministic, so tests can predict it.
INSERT INTO customers (first_name, last_name, phone, email, zip, birth_date, sex, dnc_flag, lead_source)
SELECT
  (ARRAY['Ana','Ben','Cara','Dev','Eli','Fay','Gus','Hana','Ivan','Jo'])[1 + g % 10],
  (ARRAY['Lopez','Smith','Nguyen','Patel','Kim','Garcia','Brown','Davis','Khan','Moore'])[1 + (g / 10) % 10],
  '555' || lpad((1000000 + g)::text, 7, '0'),
  'customer' || g || '@example.com',
  lpad((10000 + g % 89999)::text, 5, '0'),
  date '1950-01-01' + (g * 37 % 18000),
  (ARRAY['M','F'])[1 + g % 2],
  CASE WHEN g % 17 = 0 THEN 'Y' ELSE 'N' END,
  (ARRAY['web','referral','call'])[1 + g % 3]
FROM generate_series(1, :customers) AS g;

INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium)
SELECT c.id,
       'HS-' || c.id || '-' || n,
       'CP-' || c.id || '-' || n,
       (ARRAY['active','active','cancelled'])[1 + (c.id + n) % 3],
       date '2025-01-01' + ((c.id * 7 + n) % 300)::int,
       round((100 + (c.id * 13 + n) % 500)::numeric + 0.5, 2)
FROM customers c, generate_series(1, 1 + (c.id % 3)::int) AS n;

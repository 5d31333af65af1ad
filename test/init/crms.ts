/**
 * CRMs with naming styles other than the demo's, for `init`: each with the mapping a person
 * would write by hand (`expected`: config key → column), which the proposal is measured against.
 */

/** `client`/`enrollment`: abbreviations, ISO 5218 gender codes, mixed phone formats, ZIP+4, status codes, a soft-delete flag. */
export const CLIENT_CRM = `
CREATE TABLE client (
  client_id     serial PRIMARY KEY,
  first_nm      text NOT NULL,
  surname       text NOT NULL,
  middle_init   text,
  cell_phone    text,
  home_phone    text,
  email_addr    text,
  birthdate     date,
  addr_line1    text,
  city_nm       text,
  state_cd      char(2),
  zip_code      text,
  gender_cd     smallint,
  marital_stat  text,
  dnc_ind       char(1) NOT NULL DEFAULT 'N',
  lead_src      text,
  created_ts    timestamptz NOT NULL DEFAULT now(),
  is_deleted    boolean NOT NULL DEFAULT false
);
CREATE TABLE enrollment (
  enrollment_id      bigserial PRIMARY KEY,
  client_id          int NOT NULL REFERENCES client (client_id),
  carrier_nm         text,
  plan_nm            text,
  hios_plan_id       text,
  metal_tier         text,
  enrollment_status  text NOT NULL,
  eff_dt             date,
  term_dt            date,
  monthly_prem       numeric(10,2),
  aptc_amt           numeric(10,2),
  carrier_policy_no  text,
  ffm_app_id         text,
  updated_ts         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE client_note (note_id serial PRIMARY KEY, client_id int NOT NULL REFERENCES client (client_id), body text);

INSERT INTO client (first_nm, surname, middle_init, cell_phone, home_phone, email_addr, birthdate, addr_line1, city_nm, state_cd,
                    zip_code, gender_cd, marital_stat, dnc_ind, lead_src, is_deleted)
SELECT (ARRAY['Maria','James','Wei','Aisha','Luis','Olga','Noah','Priya','Sam','Zoe'])[1 + g % 10],
       (ARRAY['Hernandez','Okafor','Li','Johnson','Silva','Ivanova','Cohen','Rao','Baker','Young'])[1 + (g / 10) % 10],
       chr(65 + g % 26),
       -- 10 % have no cell phone; 2 % have no phone at all: those cannot be valid (CareCycle requires a phone).
       CASE WHEN g % 10 = 0 THEN NULL
            ELSE (ARRAY['(312) 555-' || lpad((g % 10000)::text, 4, '0'),
                        '312.555.' || lpad((g % 10000)::text, 4, '0'),
                        '312-555-' || lpad((g % 10000)::text, 4, '0'),
                        '312555' || lpad((g % 10000)::text, 4, '0'),
                        '+1 312 555 ' || lpad((g % 10000)::text, 4, '0')])[1 + g % 5] END,
       CASE WHEN g % 50 <> 0 THEN '773555' || lpad((g % 10000)::text, 4, '0') END,
       'client' || g || '@example.org',
       date '1945-01-01' + (g * 53 % 20000),
       g || ' Main St',
       (ARRAY['Chicago','Evanston','Oak Park'])[1 + g % 3],
       (ARRAY['IL','IN','WI'])[1 + g % 3],
       CASE WHEN g % 3 = 0 THEN lpad((60000 + g % 900)::text, 5, '0') || '-' || lpad((g % 10000)::text, 4, '0')
            ELSE lpad((60000 + g % 900)::text, 5, '0') END,
       CASE WHEN g % 20 = 0 THEN 9 ELSE 1 + g % 2 END,
       (ARRAY['S','M','D','W'])[1 + g % 4],
       CASE WHEN g % 11 = 0 THEN 'Y' ELSE 'N' END,
       (ARRAY['web','tv','referral'])[1 + g % 3],
       g % 33 = 0
FROM generate_series(1, 3000) AS g;

INSERT INTO enrollment (client_id, carrier_nm, plan_nm, hios_plan_id, metal_tier, enrollment_status, eff_dt, term_dt,
                        monthly_prem, aptc_amt, carrier_policy_no, ffm_app_id)
SELECT c.client_id,
       (ARRAY['Ambetter','Blue Cross Blue Shield of Illinois','Oscar'])[1 + (c.client_id + n) % 3],
       (ARRAY['Silver 70 HMO','Bronze Saver','Gold Plus'])[1 + (c.client_id + n) % 3],
       '12345IL00' || lpad(((c.client_id + n) % 100)::text, 2, '0') || '-01',
       (ARRAY['Silver','Bronze','Gold','Expanded Bronze'])[1 + (c.client_id + n) % 4],
       (ARRAY['A','A','C','T','P'])[1 + (c.client_id + n) % 5],
       date '2025-01-01' + ((c.client_id * 7 + n) % 300),
       CASE WHEN (c.client_id + n) % 5 = 3 THEN date '2025-12-31' END,
       round((80 + (c.client_id * 13 + n) % 600)::numeric + 0.25, 2),
       round(((c.client_id * 7 + n) % 400)::numeric, 2),
       'CP' || c.client_id || 'X' || n,
       'FFM' || (100000 + c.client_id * 3 + n)
FROM client c, generate_series(1, 1 + c.client_id % 2) AS n;

INSERT INTO client_note (client_id, body) SELECT client_id, 'called' FROM client WHERE client_id % 4 = 0;
`;

export const CLIENT_EXPECTED: Record<string, string> = {
  'customers.table': 'public.client',
  'customers.key': 'client_id',
  'customers.where': 'is_deleted',
  'customers.fields.firstName': 'first_nm',
  'customers.fields.lastName': 'surname',
  'customers.fields.phoneNumber': 'cell_phone',
  'customers.fields.email': 'email_addr',
  'customers.fields.dateOfBirth': 'birthdate',
  'customers.fields.address': 'addr_line1',
  'customers.fields.city': 'city_nm',
  'customers.fields.state': 'state_cd',
  'customers.fields.postalCode': 'zip_code',
  'customers.fields.gender': 'gender_cd',
  'customers.fields.maritalStatus': 'marital_stat',
  'customers.fields.doNotCall': 'dnc_ind',
  'policies.table': 'public.enrollment',
  'policies.key': 'enrollment_id',
  'policies.customerKey': 'client_id',
  'policies.fields.carrierName': 'carrier_nm',
  'policies.fields.planName': 'plan_nm',
  'policies.fields.hiosId': 'hios_plan_id',
  'policies.fields.metalLevel': 'metal_tier',
  'policies.fields.status': 'enrollment_status',
  'policies.fields.effectiveDate': 'eff_dt',
  'policies.fields.terminationDate': 'term_dt',
  'policies.fields.monthlyPremium': 'monthly_prem',
  'policies.fields.subsidyAmount': 'aptc_amt',
  'policies.fields.carrierAssignedPolicyId': 'carrier_policy_no',
  'policies.fields.ffmApplicationId': 'ffm_app_id',
  'watch.public.client_note': 'client_id',
};

/** camelCase (an ORM's naming): uuid keys, no declared foreign keys, text dates, lower-case states, a Medicare line. */
export const CAMEL_CRM = `
CREATE TABLE contact (
  "contactId"      uuid PRIMARY KEY,
  fname            text,
  lname            text,
  cell             text,
  "homePhone"      text,
  email            text,
  dob              text,
  "streetAddress"  text,
  city             text,
  state            text,
  "zipCode"        text,
  "maritalStatus"  text,
  sex              text,
  "doNotEmail"     boolean NOT NULL DEFAULT false,
  "deletedAt"      timestamptz,
  "createdAt"      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE "policyRecord" (
  id                serial PRIMARY KEY,
  "contactId"       uuid NOT NULL,
  "carrierName"     text,
  "planName"        text,
  "policyStatus"    text NOT NULL,
  "effectiveDate"   date,
  premium           numeric(10,2),
  "metalLevel"      text,
  "healthSherpaId"  text,
  "policyNumber"    text,
  "lineOfBusiness"  text NOT NULL
);
CREATE INDEX ON "policyRecord" ("contactId");
CREATE TABLE "contactTag" (id serial PRIMARY KEY, "contactId" uuid NOT NULL, tag text);

INSERT INTO contact ("contactId", fname, lname, cell, "homePhone", email, dob, "streetAddress", city, state, "zipCode",
                     "maritalStatus", sex, "doNotEmail", "deletedAt")
SELECT md5('contact' || g)::uuid,
       (ARRAY['Ava','Ben','Chloe','Dan','Ema','Finn','Gia','Hugo'])[1 + g % 8],
       (ARRAY['Adams','Brooks','Clark','Diaz','Evans','Flores','Gray','Hill'])[1 + (g / 8) % 8],
       CASE WHEN g % 40 = 0 THEN 'n/a' ELSE '+1' || (2000000000 + g * 7919 % 999999999)::text END,
       '(415) 555-' || lpad((g % 10000)::text, 4, '0'),
       lower((ARRAY['Ava','Ben','Chloe','Dan'])[1 + g % 4]) || g || '@mail.example',
       to_char(date '1950-06-01' + (g * 41 % 19000)::int, 'MM/DD/YYYY'),
       g || ' Ocean Ave',
       (ARRAY['San Francisco','Oakland','San Jose'])[1 + g % 3],
       (ARRAY['ca','CA','nv'])[1 + g % 3],
       lpad((90000 + g % 6000)::text, 5, '0'),
       (ARRAY['single','married','divorced','widowed','domestic partner'])[1 + g % 5],
       (ARRAY['M','F','M','F','U'])[1 + g % 5],
       g % 9 = 0,
       CASE WHEN g % 25 = 0 THEN now() END
FROM generate_series(1, 2500) AS g;

INSERT INTO "policyRecord" ("contactId", "carrierName", "planName", "policyStatus", "effectiveDate", premium, "metalLevel",
                            "healthSherpaId", "policyNumber", "lineOfBusiness")
SELECT c."contactId",
       (ARRAY['Kaiser','Blue Shield of California','Anthem'])[1 + (g + n) % 3],
       (ARRAY['Silver 87 HMO','Bronze 60 PPO','Gold 80 HMO'])[1 + (g + n) % 3],
       (ARRAY['active','active','cancelled','term','pending'])[1 + (g + n) % 5],
       date '2024-11-01' + ((g * 5 + n) % 400)::int,
       round((120 + (g * 11 + n) % 700)::numeric + 0.99, 2),
       (ARRAY['silver','bronze','gold'])[1 + (g + n) % 3],
       'hs_' || md5('policy' || g || '-' || n),
       'POL-' || g || '-' || n,
       CASE WHEN n = 3 THEN 'Medicare' ELSE 'ACA' END
FROM (SELECT "contactId", row_number() OVER (ORDER BY "contactId") AS g FROM contact) c, generate_series(1, 1 + (c.g % 3)::int) AS n;

INSERT INTO "contactTag" ("contactId", tag) SELECT "contactId", 'vip' FROM contact WHERE fname = 'Ava';
`;

export const CAMEL_EXPECTED: Record<string, string> = {
  'customers.table': 'public.contact',
  'customers.key': 'contactId',
  'customers.where': 'deletedAt',
  'customers.fields.firstName': 'fname',
  'customers.fields.lastName': 'lname',
  'customers.fields.phoneNumber': 'cell',
  'customers.fields.email': 'email',
  'customers.fields.dateOfBirth': 'dob',
  'customers.fields.address': 'streetAddress',
  'customers.fields.city': 'city',
  'customers.fields.state': 'state',
  'customers.fields.postalCode': 'zipCode',
  'customers.fields.maritalStatus': 'maritalStatus',
  'customers.fields.gender': 'sex',
  'customers.fields.doNotEmail': 'doNotEmail',
  'policies.table': 'public.policyRecord',
  'policies.key': 'id',
  'policies.customerKey': 'contactId',
  'policies.where': 'lineOfBusiness',
  'policies.fields.carrierName': 'carrierName',
  'policies.fields.planName': 'planName',
  'policies.fields.status': 'policyStatus',
  'policies.fields.effectiveDate': 'effectiveDate',
  'policies.fields.monthlyPremium': 'premium',
  'policies.fields.metalLevel': 'metalLevel',
  'policies.fields.healthSherpaPolicyId': 'healthSherpaId',
  'policies.fields.policyNumber': 'policyNumber',
  'watch.public.contactTag': 'contactId',
};

/** The demo's sample CRM (sql/crm), as config/demo.yaml maps it. */
export const DEMO_EXPECTED: Record<string, string> = {
  'customers.table': 'public.customers',
  'customers.key': 'id',
  'customers.where': 'deleted_at',
  'customers.fields.firstName': 'first_name',
  'customers.fields.lastName': 'last_name',
  'customers.fields.phoneNumber': 'phone',
  'customers.fields.email': 'email',
  'customers.fields.postalCode': 'zip',
  'customers.fields.dateOfBirth': 'birth_date',
  'customers.fields.gender': 'sex',
  'customers.fields.doNotCall': 'dnc_flag',
  'customers.customFields.lead_source': 'lead_source',
  'policies.table': 'public.policies',
  'policies.key': 'id',
  'policies.customerKey': 'customer_id',
  'policies.where': 'line_of_business',
  'policies.fields.healthSherpaPolicyId': 'hs_policy_id',
  'policies.fields.carrierAssignedPolicyId': 'carrier_policy_id',
  'policies.fields.status': 'status',
  'policies.fields.effectiveDate': 'effective_date',
  'policies.fields.monthlyPremium': 'premium',
  'watch.public.customer_phones': 'customer_id',
};

DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE customers;
DROP TABLE organizations;

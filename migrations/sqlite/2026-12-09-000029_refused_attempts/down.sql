DROP TABLE refused_attempts;


create table user (
 user_id int NOT NULL AUTO_INCREMENT,
 username varchar(255),
 primary key (user_id)
);
insert into user (username) values ('admin');

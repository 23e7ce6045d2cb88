fn main() {
    println!("sundial skeleton");
}

/* A program that ends at once, saying nothing: task_spawn's tests start it. */
int main(void)
{
	return 0;
}
